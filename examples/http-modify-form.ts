/**
 * Modify an HTTP form submission (application/x-www-form-urlencoded).
 * Run: mitmts -s http-modify-form.ts   (mitmproxy: examples/addons/http-modify-form.py)
 */
import type { HTTPFlow } from '@mitmts/sdk';

export function request(flow: HTTPFlow): void {
  const form = flow.request.urlencodedForm;
  if (form.size > 0) {
    // There is a form already: add a field to it.
    form.set('mitmproxy', 'rocks');
  } else {
    // Or pass new form data: this sets the content type and replaces the body.
    flow.request.urlencodedForm = [['foo', 'bar']];
  }
}
