/** Test peers built from the codec: encode messages as a client or server would, decode what the relay sent. */
import { Buffer } from 'node:buffer';
import {
  DeflateDirection,
  type DeflateParams,
  FrameReader,
  MessageAssembler,
  Opcode,
  RSV1,
  serializeFrame,
} from '../../src/proxy/websocket/index.js';

export interface EncodeOptions {
  binary?: boolean;
  compress?: boolean;
  /** Split the payload into fragments of this size. */
  fragment?: number;
}

/** Encodes messages as one peer: the client masks, both compress with their own context. */
export class PeerEncoder {
  private readonly deflate: DeflateDirection | null;
  constructor(
    readonly isClient: boolean,
    params: DeflateParams | null = null,
  ) {
    this.deflate = params ? new DeflateDirection(params, isClient) : null;
  }

  message(content: string | Buffer, o: EncodeOptions = {}): Buffer {
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    const payload = o.compress ? this.deflate!.deflate(data) : data;
    const size = o.fragment ?? Math.max(payload.length, 1);
    const frames: Buffer[] = [];
    for (let off = 0; off < payload.length || frames.length === 0; off += size) {
      const first = off === 0;
      frames.push(
        serializeFrame({
          fin: off + size >= payload.length,
          rsv: first && o.compress ? RSV1 : 0,
          opcode: first ? (o.binary ? Opcode.BINARY : Opcode.TEXT) : Opcode.CONTINUATION,
          payload: payload.subarray(off, off + size),
          mask: this.isClient,
        }),
      );
    }
    return Buffer.concat(frames);
  }

  control(opcode: number, payload: string | Buffer = ''): Buffer {
    return serializeFrame({
      opcode,
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
      mask: this.isClient,
    });
  }
}

export interface Decoded {
  opcode: number;
  content: Buffer;
  compressed: boolean;
  /** Payload sizes of the frames. */
  fragments: number[];
}

/** Decodes what one peer receives (frames from the other side). */
export class PeerDecoder {
  private readonly reader: FrameReader;
  private readonly assembler = new MessageAssembler();
  private readonly deflate: DeflateDirection | null;
  readonly messages: Decoded[] = [];
  readonly controls: Array<{ opcode: number; payload: Buffer }> = [];

  /** `fromClient`: the frames were sent by a client (masked). */
  constructor(fromClient: boolean, params: DeflateParams | null = null) {
    this.reader = new FrameReader({ masked: fromClient, allowedRsv: params ? RSV1 : 0 });
    this.deflate = params ? new DeflateDirection(params, fromClient) : null;
  }

  push(bytes: Buffer): this {
    this.reader.push(bytes);
    for (let f = this.reader.read(); f; f = this.reader.read()) {
      if (f.opcode >= Opcode.CLOSE) {
        this.controls.push({ opcode: f.opcode, payload: f.payload });
        continue;
      }
      const m = this.assembler.add(f);
      if (m) {
        const content = m.compressed ? this.deflate!.inflate(m.payloads, 1 << 30) : Buffer.concat(m.payloads);
        this.messages.push({
          opcode: m.opcode,
          content,
          compressed: m.compressed,
          fragments: m.payloads.map((p) => p.length),
        });
      }
    }
    return this;
  }

  get texts(): string[] {
    return this.messages.map((m) => m.content.toString());
  }
}
