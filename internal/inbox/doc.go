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
//
// # Failures
//
// Given a [Failures] (WithFailures), the page also lists, newest first and
// above the conversations, the deliveries that did not become messages:
// webhooks refused with a 4xx answer and queue records bound for the rejects
// queue, each with its reason. Failures keeps a fixed number in memory.
//
// # Markup
//
// Message texts and conversation subjects are shown with TalkJS's markup
// applied, as [Markup] parses it. What TalkJS documents ("Formatting",
// https://talkjs.com/docs/Features/Messages/Formatting/, read December 2026):
//
//   - _italic_, *bold*, ~strikethrough~ and ```code```;
//   - only code may span lines: other markup applies only when the marked-up
//     text has no newline;
//   - markup applies only when the markers sit at the boundaries of a word or
//     phrase ("this_ doesn't _change" stays as it is);
//   - kinds of markup combine: *_like this_*;
//   - lines starting with "-", "*" or "+" make a bulleted list (no numbered
//     or nested lists);
//   - bare URLs are clickable in every message; <url|text> makes text a link
//     (messages sent through the REST API only, which is all the bridge
//     sends); URLs must be absolute, and the docs show https and mailto;
//   - emoji are Unicode characters in the text. ":cat" is an autocomplete of
//     the chat UI's input box, not markup, so shortcodes in a text stay text.
//
// What the docs do not settle, and this package assumes:
//
//   - a word boundary is a character that is not a Unicode letter or digit,
//     or the start or end of the line; the opening marker must be followed,
//     and the closing one preceded, by a non-space; the marked text is not
//     empty, and the first eligible closing marker wins;
//   - single backticks (`code`) are not markup, as the docs list only
//     triple ones; code is shown inline and keeps its newlines;
//   - a list item is "-", "*" or "+", a space and some text, at the start of
//     a line, leading blanks allowed;
//   - bare URLs start with http:// or https:// after a non-word character and
//     end at whitespace or an angle bracket, less trailing sentence
//     punctuation (.,;:!?'") and markers, and less closing brackets the URL
//     did not open;
//   - only http, https (with a host) and mailto URLs become links, for bare
//     URLs and <url|text> alike; any other scheme (javascript:, data:, a
//     relative path) leaves the text as it was. A link's text is not searched
//     for further URLs;
//   - the dashboard's "Suppress links" setting is taken as off, and action
//     buttons and links (<actionbutton:...>) are shown as text;
//   - texts over 20,000 bytes are shown without markup.
//
// Nothing here produces HTML: Markup returns [Node]s, the page builds the DOM
// from them with createElement and text nodes only, allowing only the
// elements Markup makes and checking link URLs again, and the page's
// Content-Security-Policy admits only its own script and style.
package inbox
