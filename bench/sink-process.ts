/**
 * The SMTP sink in a process of its own, as a real SMTP server would be: the benchmark's sending
 * side (raw nodemailer or the pipeline) then does not share its event loop with the receiver.
 * Prints the port on stdout once listening; exits when its stdin closes.
 */
import { startSmtpSink } from '../src/mail/sink.js';

// An optional reply delay (ms) at RCPT and at the end of DATA, like a remote server's round trips.
const delayMs = Number(process.argv[2] ?? 0);
const sink = await startSmtpSink({ keep: 0, faultFor: delayMs > 0 ? () => ({ delayMs }) : undefined });
process.stdout.write(`${sink.port}\n`);
process.stdin.resume();
process.stdin.on('end', () => void sink.close().then(() => process.exit(0)));
