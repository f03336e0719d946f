// Package talkjs is a client for the TalkJS REST API v1: users, conversations,
// participants, messages, listing and the batch endpoint.
//
// Every call goes through one request path. It checks ids with [ValidateID]
// and arguments before sending anything, authenticates with a secret key from
// a [KeySource] (as the Bearer token, or, with [WithAppTokens], as a new
// app-scoped JWT per attempt signed with it), pins the REST API version with
// the TalkJS-REST-Version header ([DefaultRESTVersion], [WithRESTVersion]),
// decides success by the HTTP status alone, and makes one retry decision
// (decideRetry, a pure function): it retries what TalkJS documents as safe to
// retry (5xx, and 429, connection errors and timeouts) with exponential
// backoff, full jitter and Retry-After, within the caller's context deadline.
// A message send is retried only when every message in it carries an
// idempotency key, so a retry can never post a message twice.
//
// After 429 answers the client paces itself ([WithPacing], on by default): its
// attempts wait out a Retry-After when their deadline allows, and when a
// second shows a real share of 429s (not a stray one) they are spaced at 3/4
// of the rate TalkJS accepted (time spent waiting out Retry-After left out),
// probing slowly for more. The pacing is per process; processes that share an
// app's limit each pace themselves.
//
// Redirects are never followed (a 3xx is an [*APIError] with its status), so
// the key goes nowhere but the configured base URL. Error answers are scrubbed
// of the key, the token and any [RedactFragmentLen]-byte piece of them before
// they are cut to size ([WithMaxErrorBody]).
//
// Updates send only the fields set; Clear and ClearCustom on [UserUpdate],
// [ConversationUpdate] and [MessageUpdate] send explicit nulls. Conversation
// iterators page with startingAfter in creation order unless told otherwise
// ([ListOptions].OrderBy), since TalkJS's default last-activity order moves
// conversations while a walk pages.
//
// Assumptions where TalkJS's docs are silent (the orderBy values, the
// null-per-custom-key semantics, the attachmentToken field name, what a 429
// means) are stated on the names they affect; talkjs/talkjstest documents
// the emulator's side. Each method's doc comment links the TalkJS reference.
//
// The package knows nothing of AWS or Lambda; it depends only on the standard
// library, golang.org/x and the project's tlsroots (TLS verified against the
// roots in the binary).
package talkjs
