import type { Block } from './blocks/common.js';
import type { SlackWriter } from './writer.js';

/**
 * Slack off, a person watching (the demo): each message printed as it would read in Slack —
 * its sections' text, its buttons — with posts, edits and thread replies told apart.
 */
function readable(blocks: Block[] | undefined, fallback: string): string {
  if (!blocks || blocks.length === 0) return fallback;
  const lines: string[] = [];
  for (const block of blocks as { type: string; text?: { text?: string }; fields?: { text: string }[]; elements?: { type: string; text?: { text?: string } | string; placeholder?: { text?: string } }[] }[]) {
    if (block.text?.text) lines.push(block.text.text);
    if (block.fields) lines.push(block.fields.map((f) => f.text.replace(/\n/g, ' ')).join('   '));
    if (block.type === 'actions' && block.elements) lines.push(block.elements.map((e) => `[ ${typeof e.text === 'string' ? e.text : (e.text?.text ?? e.placeholder?.text ?? '')} ]`).join(' '));
    if (block.type === 'context' && block.elements) lines.push(block.elements.map((e) => (typeof e.text === 'string' ? e.text : (e.text?.text ?? ''))).join(' '));
  }
  return lines.join('\n');
}

/** With `held`, messages wait until `flush()` (the demo prints them where its story has got to). */
export function createPrintWriter(write: (text: string) => void, options: { held?: boolean } = {}): SlackWriter & { flush(): void } {
  let n = 0;
  const waiting: string[] = [];
  const box = (title: string, body: string) => {
    const text = `\n  ┌─ ${title}\n${body.split('\n').map((l) => `  │ ${l}`).join('\n')}\n  └─\n`;
    if (options.held) waiting.push(text);
    else write(text);
  };
  return {
    flush() {
      for (const text of waiting.splice(0)) write(text);
    },
    async post(m) {
      const ts = `print.${++n}`;
      const where = m.channel === 'log' ? '' : ` in ${m.channel}`;
      box(m.threadTs ? `Slack reply in the alert's thread${where}` : `Slack message${where}`, readable(m.blocks, m.text));
      return { channel: m.channel, ts };
    },
    async update(m) {
      box('Slack message edited in place', readable(m.blocks, m.text));
    },
  };
}
