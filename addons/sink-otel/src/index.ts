import { OTelSink } from './otel.js';

export { OTelSink };
export { flowToSpan, redactUrl, type SpanData } from './span.js';
export default OTelSink;
