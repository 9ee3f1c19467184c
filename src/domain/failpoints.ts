/**
 * Failpoints: test-only crash points in the send path, armed by FAILPOINTS (name=count). Each
 * crashes the worker at the moment it names, so a test can show nothing is lost or sent twice.
 */
export type Failpoint = 'crash-after-accept' | 'crash-before-handoff';
