// Package localrun runs the bridge on this machine: the TalkJS emulator (or
// real TalkJS), the local AWS endpoint (Secrets Manager and SQS), and the
// three functions' real bootstraps under the Lambda Runtime Interface
// Emulator, wired together the way the SAM template wires them in AWS. The
// end-to-end tests, `make demo` and `make invoke` start it with Start and
// feed it the files of events/ with LoadEvent.
//
// Everything listens on 127.0.0.1 only. The functions get their TalkJS key
// and webhook secrets from the local Secrets Manager as one JSON secret, so
// the deployed code path (TALKJS_SECRET_ID, lazy fetch, cache) is the one
// that runs; only the endpoints and the credentials are fake.
//
// With Options.Queued the webhook function runs in queue mode, as deployed by
// default (COMMAND_QUEUE_URL on a local command queue, FIFO with
// Options.FIFO), and Stack.DeliverQueued plays the SQS event source: it hands
// what was queued to the queue function in batches, keeps what failed and
// may deliver every batch twice.
package localrun
