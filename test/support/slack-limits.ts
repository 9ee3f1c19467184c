/**
 * Slack's documented limits on Block Kit payloads (api.slack.com/reference/block-kit/blocks,
 * …/composition-objects, …/surfaces/views), as Slack applies them: a message or view over any of
 * them is refused whole (`invalid_blocks` for a message, `invalid_arguments` for a view). The fake
 * Slack Web API refuses with these, and tests check what we render against them.
 */
export type Surface = 'message' | 'modal' | 'home';

const MAX_BLOCKS: Record<Surface, number> = { message: 50, modal: 100, home: 100 };

type Json = Record<string, unknown>;
const textOf = (o: unknown): string => (typeof o === 'object' && o && typeof (o as Json).text === 'string' ? ((o as Json).text as string) : '');

function over(problems: string[], where: string, value: unknown, max: number) {
  const length = typeof value === 'string' ? value.length : 0;
  if (length > max) problems.push(`${where}: ${length} characters (at most ${max})`);
}

function blockProblems(block: Json, at: string, problems: string[]) {
  over(problems, `${at}.block_id`, block.block_id, 255);
  switch (block.type) {
    case 'section': {
      over(problems, `${at}.text`, textOf(block.text), 3000);
      const fields = (block.fields as unknown[] | undefined) ?? [];
      if (fields.length > 10) problems.push(`${at}.fields: ${fields.length} (at most 10)`);
      fields.forEach((f, i) => over(problems, `${at}.fields[${i}]`, textOf(f), 2000));
      if (block.accessory) elementProblems(block.accessory as Json, `${at}.accessory`, problems);
      if (!block.text && fields.length === 0) problems.push(`${at}: a section needs text or fields`);
      break;
    }
    case 'context': {
      const elements = (block.elements as Json[] | undefined) ?? [];
      if (elements.length === 0 || elements.length > 10) problems.push(`${at}.elements: ${elements.length} (1 to 10)`);
      elements.forEach((e, i) => over(problems, `${at}.elements[${i}]`, textOf(e), 3000));
      break;
    }
    case 'actions': {
      const elements = (block.elements as Json[] | undefined) ?? [];
      if (elements.length === 0 || elements.length > 25) problems.push(`${at}.elements: ${elements.length} (1 to 25)`);
      elements.forEach((e, i) => elementProblems(e, `${at}.elements[${i}]`, problems));
      break;
    }
    case 'header':
      over(problems, `${at}.text`, textOf(block.text), 150);
      break;
    case 'input':
      over(problems, `${at}.label`, textOf(block.label), 2000);
      over(problems, `${at}.hint`, textOf(block.hint), 2000);
      break;
    default:
      break;
  }
}

function elementProblems(element: Json, at: string, problems: string[]) {
  over(problems, `${at}.action_id`, element.action_id, 255);
  if (element.type === 'button') {
    over(problems, `${at}.text`, textOf(element.text), 75);
    over(problems, `${at}.value`, element.value, 2000);
    over(problems, `${at}.url`, element.url, 3000);
  }
  if (element.type === 'static_select') {
    over(problems, `${at}.placeholder`, textOf(element.placeholder), 150);
    const options = (element.options as Json[] | undefined) ?? [];
    if (options.length === 0 || options.length > 100) problems.push(`${at}.options: ${options.length} (1 to 100)`);
    options.forEach((o, i) => {
      over(problems, `${at}.options[${i}].text`, textOf(o.text), 75);
      over(problems, `${at}.options[${i}].value`, o.value, 150);
    });
  }
}

/** What Slack would refuse in a message (`{ text, blocks }`) or a view, as one line each; empty when it is all within the limits. */
export function slackLimitProblems(surface: Surface, payload: { text?: unknown; blocks?: unknown; title?: unknown; submit?: unknown; close?: unknown; private_metadata?: unknown; callback_id?: unknown }): string[] {
  const problems: string[] = [];
  const blocks = Array.isArray(payload.blocks) ? (payload.blocks as Json[]) : [];
  if (blocks.length > MAX_BLOCKS[surface]) problems.push(`${blocks.length} blocks in a ${surface} (at most ${MAX_BLOCKS[surface]})`);
  blocks.forEach((b, i) => blockProblems(b, `blocks[${i}]`, problems));
  if (surface === 'message') over(problems, 'text', payload.text, 40_000);
  if (surface === 'modal') {
    over(problems, 'title', textOf(payload.title), 24);
    over(problems, 'submit', textOf(payload.submit), 24);
    over(problems, 'close', textOf(payload.close), 24);
  }
  if (surface !== 'message') {
    over(problems, 'private_metadata', payload.private_metadata, 3000);
    over(problems, 'callback_id', payload.callback_id, 255);
  }
  return problems;
}
