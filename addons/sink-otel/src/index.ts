import { OTelSink } from './otel.js';

export { OTelSink };
export { parseHeaders } from './otel.js';
export { flowToSpan, redactUrl, type SpanData } from './span.js';
export default OTelSink;
