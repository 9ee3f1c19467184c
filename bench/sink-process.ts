/**
 * The SMTP sink in a process of its own, as a real SMTP server would be: the benchmark's sending
 * side (raw nodemailer or the pipeline) then does not share its event loop with the receiver.
 * Prints the port on stdout once listening; exits when its stdin closes.
 */
import { startSmtpSink } from '../src/mail/sink.js';

const sink = await startSmtpSink({ keep: 0 });
process.stdout.write(`${sink.port}\n`);
process.stdin.resume();
process.stdin.on('end', () => void sink.close().then(() => process.exit(0)));
