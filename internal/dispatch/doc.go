// Package dispatch delivers mapped sends to TalkJS and decides what a failure
// means for the event that caused it.
//
// Every inbound path (webhook, queue, schedule) ends here: a mapping.Send
// becomes the user upserts, the conversation upsert and the message calls it
// needs, in that order, and any error is classified once, by Classify, as
// either worth retrying (TalkJS 5xx, 429, connection errors, timeouts, an
// unavailable secret) or permanent (TalkJS 4xx, an event that can never be
// mapped). The package also plans SQS batches: records are grouped into lanes
// that keep per-conversation and per-FIFO-group order, and consecutive messages
// for one conversation are coalesced into TalkJS calls of up to ten messages.
package dispatch
