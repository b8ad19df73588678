/** `[type, subtype, parameters]` of a parsed Content-Type value. */
export type ContentType = [type: string, subtype: string, params: Map<string, string>];

/**
 * Parse a Content-Type value leniently (mitmproxy's `parse_content_type`): returns null if there
 * is no `/`; type and subtype are lowercased, parameters keep their case and order.
 */
export function parseContentType(value: string): ContentType | null {
  const semi = value.indexOf(';');
  const main = semi === -1 ? value : value.slice(0, semi);
  const slash = main.indexOf('/');
  if (slash === -1) return null;
  const params = new Map<string, string>();
  if (semi !== -1) {
    for (const clause of value.slice(semi + 1).split(';')) {
      const eq = clause.indexOf('=');
      if (eq !== -1) params.set(clause.slice(0, eq).trim(), clause.slice(eq + 1).trim());
    }
  }
  return [main.slice(0, slash).toLowerCase(), main.slice(slash + 1).toLowerCase(), params];
}

/** Inverse of {@link parseContentType}. */
export function assembleContentType(type: string, subtype: string, params: Map<string, string>): string {
  if (params.size === 0) return `${type}/${subtype}`;
  return `${type}/${subtype}; ` + Array.from(params, ([k, v]) => `${k}=${v}`).join('; ');
}

function asciiSearch(content: Buffer, re: RegExp): RegExpExecArray | null {
  // Only look at the start of the body, where charset declarations live.
  return re.exec(content.subarray(0, 4096).toString('latin1'));
}

/**
 * The text encoding of a message body, as mitmproxy infers it: a byte order mark first, then the
 * Content-Type charset, then per-type defaults (JSON, HTML, XML, JavaScript and CSS default to
 * UTF-8, HTML `<meta charset>`, XML declarations and CSS `@charset` are honoured), finally latin-1.
 * GB2312 and GBK are widened to GB18030.
 */
export function inferContentEncoding(contentType: string, content: Buffer = Buffer.alloc(0)): string {
  let enc: string | undefined;
  if (content.length >= 4 && content[0] === 0 && content[1] === 0 && content[2] === 0xfe && content[3] === 0xff)
    enc = 'utf-32be';
  else if (content.length >= 4 && content[0] === 0xff && content[1] === 0xfe && content[2] === 0 && content[3] === 0)
    enc = 'utf-32le';
  else if (content.length >= 2 && content[0] === 0xfe && content[1] === 0xff) enc = 'utf-16be';
  else if (content.length >= 2 && content[0] === 0xff && content[1] === 0xfe) enc = 'utf-16le';
  else if (content.length >= 3 && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf) enc = 'utf-8-sig';
  else {
    const ct = parseContentType(contentType);
    if (ct) enc = ct[2].get('charset');
  }
  if (!enc && contentType.includes('json')) enc = 'utf8';
  if (!enc && contentType.includes('html')) {
    const m = asciiSearch(content, /<meta[^>]+charset=['"]?([^'">]+)/i);
    enc = m ? m[1]!.replace(/[^\x00-\x7f]/g, '') : 'utf8';
  }
  if (!enc && contentType.includes('xml')) {
    const m = asciiSearch(content, /<\?xml[^?>]+encoding=['"]([^'"?>]+)/i);
    enc = m ? m[1]!.replace(/[^\x00-\x7f]/g, '') : 'utf8';
  }
  if (!enc && (contentType.includes('javascript') || contentType.includes('ecmascript'))) enc = 'utf8';
  if (!enc && contentType.includes('text/css')) {
    const m = /^@charset "([^"]+)";/i.exec(content.subarray(0, 1024).toString('latin1'));
    enc = m ? m[1]!.replace(/[^\x00-\x7f]/g, '') : 'utf8';
  }
  if (!enc) enc = 'latin-1';
  const low = enc.toLowerCase();
  if (low === 'gb2312' || low === 'gbk') enc = 'gb18030';
  return enc;
}
