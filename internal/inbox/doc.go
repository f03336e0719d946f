// Package inbox serves a small web page that shows a TalkJS app's
// conversations and messages the way a chat would: one card per conversation,
// messages oldest first with the newest at the bottom, user messages as
// bubbles under their sender's name and system messages centred apart. It is
// the /inbox page of the local development server. It reads through a
// [Source] (a *talkjs.Client satisfies it), so it works the same against the
// embedded TalkJS emulator and against real TalkJS. The page is one HTML
// document with inline CSS and JavaScript and no external assets; it polls a
// JSON endpoint about once a second with If-None-Match, so an unchanged inbox
// costs a 304 and, thanks to a per-conversation message cache keyed by the
// last message, a single TalkJS listing call.
package inbox
