import { addon, command, inject, KERNEL, type Flow, type Kernel } from '@mitmts/sdk';

/** mitmproxy's `comment` addon: the `flow.comment` command. */
@addon({ name: 'comment', description: 'Set flow comments.' })
export class Comment {
  constructor(@inject(KERNEL) private readonly kernel: Kernel) {}

  @command('flow.comment', {
    args: ['flows', 'str'],
    help: 'Set the comment of the given flows (an empty string removes it).',
  })
  comment(flows: Flow[], comment: string): void {
    for (const f of flows) f.comment = comment;
    void this.kernel.trigger('update', flows);
  }
}
