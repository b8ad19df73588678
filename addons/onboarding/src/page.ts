/** Escape text for HTML. */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Section {
  readonly id: string;
  readonly title: string;
  /** Which file to offer: pem, cer or p12. */
  readonly file: 'pem' | 'cer' | 'p12';
  /** Steps as HTML (commands in <code>). */
  readonly steps: readonly string[];
}

const F = 'mitmproxy-ca-cert';

const PLATFORMS: readonly Section[] = [
  {
    id: 'windows',
    title: 'Windows',
    file: 'p12',
    steps: [
      `Open the downloaded <code>${F}.p12</code> to start the import wizard; leave the password empty.`,
      'Choose <b>Place all certificates in the following store</b>, then <b>Trusted Root Certification Authorities</b>, and finish.',
      `Or, in an administrator prompt: <code>certutil.exe -addstore root ${F}.cer</code>`,
    ],
  },
  {
    id: 'macos',
    title: 'macOS',
    file: 'pem',
    steps: [
      `<code>sudo security add-trusted-cert -d -p ssl -p basic -k /Library/Keychains/System.keychain ${F}.pem</code>`,
      'Or open the file in Keychain Access, open the "mitmproxy" certificate and set <b>When using this certificate</b> to <b>Always Trust</b>.',
    ],
  },
  {
    id: 'linux',
    title: 'Linux',
    file: 'pem',
    steps: [
      `Debian, Ubuntu: <code>sudo cp ${F}.pem /usr/local/share/ca-certificates/mitmproxy.crt &amp;&amp; sudo update-ca-certificates</code>`,
      `Fedora, RHEL: <code>sudo cp ${F}.pem /etc/pki/ca-trust/source/anchors/ &amp;&amp; sudo update-ca-trust</code>`,
      `Arch: <code>sudo trust anchor --store ${F}.pem</code>`,
      `Chromium and Firefox on Linux keep their own store (NSS): <code>certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n mitmproxy -i ${F}.pem</code>`,
    ],
  },
  {
    id: 'ios',
    title: 'iOS',
    file: 'pem',
    steps: [
      'Open this page in Safari and download the certificate; install the profile under <b>Settings &gt; General &gt; VPN &amp; Device Management</b>.',
      'Then turn on full trust: <b>Settings &gt; General &gt; About &gt; Certificate Trust Settings</b>.',
    ],
  },
  {
    id: 'android',
    title: 'Android',
    file: 'cer',
    steps: [
      'Download the certificate, then install it under <b>Settings &gt; Security &gt; Encryption &amp; credentials &gt; Install a certificate &gt; CA certificate</b>.',
      'Apps targeting Android 7 or later trust user CAs only if their network security config allows it; browsers such as Chrome do.',
    ],
  },
  {
    id: 'firefox',
    title: 'Firefox',
    file: 'pem',
    steps: [
      '<b>Settings &gt; Privacy &amp; Security &gt; Certificates &gt; View Certificates &gt; Authorities &gt; Import</b>, then tick <b>Trust this CA to identify websites</b>.',
    ],
  },
];

const TOOLS: readonly Section[] = [
  {
    id: 'curl',
    title: 'curl',
    file: 'pem',
    steps: [
      `<code>curl --cacert ${F}.pem -x http://PROXY https://example.com</code>, or <code>export CURL_CA_BUNDLE=$PWD/${F}.pem</code>`,
    ],
  },
  {
    id: 'node',
    title: 'Node.js',
    file: 'pem',
    steps: [`<code>export NODE_EXTRA_CA_CERTS=$PWD/${F}.pem</code> (added to Node's built-in CAs; read at start-up)`],
  },
  {
    id: 'python',
    title: 'Python',
    file: 'pem',
    steps: [
      `requests: <code>export REQUESTS_CA_BUNDLE=$PWD/${F}.pem</code>`,
      `ssl, urllib, httpx: <code>export SSL_CERT_FILE=$PWD/${F}.pem</code>`,
      'Both replace the default CAs: combine the file with your system bundle to reach sites without the proxy.',
    ],
  },
  {
    id: 'java',
    title: 'Java',
    file: 'cer',
    steps: [
      `<code>keytool -importcert -alias mitmproxy -file ${F}.cer -cacerts -storepass changeit -noprompt</code> (Java 9 and later; older: <code>-keystore $JAVA_HOME/jre/lib/security/cacerts</code>)`,
    ],
  },
];

function section(s: Section): string {
  return `<section id="${s.id}">
<h3>${esc(s.title)} <a class="get" href="/cert/${s.file}">Get ${F}.${s.file}</a></h3>
<ol>${s.steps.map((st) => `<li>${st}</li>`).join('')}</ol>
</section>`;
}

/** The onboarding page: self-contained HTML (inline CSS, no scripts, nothing from other hosts). */
export function onboardingPage(host: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mitmts: install the CA certificate</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
h3 { display: flex; justify-content: space-between; align-items: center; font-size: 1.1rem; margin-bottom: .3rem; }
code { background: #f2f2f2; padding: .1rem .3rem; border-radius: 3px; word-break: break-all; }
a.get { font-size: .85rem; font-weight: normal; background: #2e7d32; color: #fff; padding: .25rem .6rem; border-radius: 4px; text-decoration: none; }
.files a { margin-right: 1rem; } .note { color: #555; }
</style>
</head>
<body>
<h1>Install the mitmts certificate authority</h1>
<p>You reached this page through mitmts: your traffic goes through the proxy. To let it read HTTPS,
install its CA certificate in the system or the program you use, then restart that program.</p>
<p class="files">Download: <a href="/cert/pem">${F}.pem</a> (PEM) <a href="/cert/cer">${F}.cer</a> (DER) <a href="/cert/p12">${F}.p12</a> (PKCS#12, no password)</p>
<p class="note">Each mitmts installation creates its own CA. Do not share it: whoever has its key can read the traffic of every machine that trusts it.</p>
<h2>Operating systems and browsers</h2>
${PLATFORMS.map(section).join('\n')}
<h2>Programs and languages</h2>
${TOOLS.map(section).join('\n')}
<p class="note">Served by mitmts at ${esc(host)}.</p>
</body>
</html>
`;
}
