/**
 * Where Campaign Guard answers. Commands and clicks are accepted only in the alert channel and the
 * channels of SLACK_ALLOWED_CHANNELS: a cancel is an incident action, and it belongs where the
 * on-call team sees it, not in a direct message or a channel shared with another organisation
 * (a Slack Connect channel is not on the list unless an admin puts it there).
 *
 * Our own surfaces (App Home and the modals we open) have no channel; they stay allowed, and
 * identity and role still gate them. With no channel configured at all, every channel is allowed
 * except direct messages and group direct messages, which are never an on-call team's place
 * (unless an admin lists one explicitly).
 */
export type Place = { channel: string; name?: string | null } | { surface: 'home' | 'modal' };

export type PlaceVerdict = { ok: true } | { ok: false; why: string; text: string };

export function isDirectMessage(place: { channel: string; name?: string | null }): 'a direct message' | 'a group direct message' | undefined {
  if (place.channel.startsWith('D') || place.name === 'directmessage') return 'a direct message';
  if (place.name?.startsWith('mpdm-')) return 'a group direct message';
  return undefined;
}

export function channelVerdict(place: Place, allowed: string[]): PlaceVerdict {
  if ('surface' in place) return { ok: true };
  if (allowed.includes(place.channel)) return { ok: true };
  const direct = isDirectMessage(place);
  if (!direct && allowed.length === 0) return { ok: true };
  const why = direct ?? 'a channel not on the list';
  const where = allowed.length > 0 ? allowed.map((c) => `<#${c}>`).join(', ') : 'a channel (not in direct messages)';
  return {
    ok: false,
    why: `${place.channel} is ${why}`,
    text: `:no_entry: Campaign Guard is not allowed here (this is ${why}), so nothing was changed. It works in ${where}.`,
  };
}
