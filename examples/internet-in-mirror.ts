/**
 * Mirror all web pages: a style sheet flipping every page is inserted before </head>.
 * Run: mitmts -s internet-in-mirror.ts   (mitmproxy: examples/addons/internet-in-mirror.py)
 */
import type { HTTPFlow } from '@mitmts/sdk';

const REFLECTOR = '<style>body {transform: scaleX(-1);}</style></head>';

export function response(flow: HTTPFlow): void {
  const content = flow.response?.content;
  if (!content) return;
  flow.response!.content = Buffer.from(content.toString('latin1').replace('</head>', REFLECTOR), 'latin1');
}
