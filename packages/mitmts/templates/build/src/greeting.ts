import { addon, hook, option, HTTPResponse, type HTTPFlow } from '@mitmts/sdk';

/**
 * The build's own addon: answers requests for http://__name__.proxy/ itself and stamps every
 * other response with x-__name__. List more addons (packages or files) in mitmts.json.
 */
@addon({ name: 'greeting' })
export class Greeting {
  @option({
    type: 'str',
    default: 'hello from __name__',
    help: 'Value of the x-__name__ response header, and the body served at http://__name__.proxy/.',
  })
  greeting!: string;

  @hook('request')
  answer(flow: HTTPFlow): void {
    if (flow.request.prettyHost !== '__name__.proxy') return;
    flow.response = HTTPResponse.make(200, this.greeting, { 'content-type': 'text/plain' });
  }

  @hook('response')
  stamp(flow: HTTPFlow): void {
    flow.response?.headers.set('x-__name__', this.greeting);
  }
}

export default Greeting;
