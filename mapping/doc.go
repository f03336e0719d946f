// Package mapping turns inbound events into TalkJS sends according to a
// routes file. It verifies a webhook's signature on the raw bytes (through
// package verify), parses the payload, picks the actions whose event list
// and filter match, and renders their conversation, users and messages from
// templates, with idempotency keys derived from the delivery. It also holds
// the reminders the schedule function sends. Everything here is a pure
// function of (routes file, route, headers, body, clock, secrets): no AWS,
// no network, no environment, so it is tested offline and checked with
// `bridge validate` and `bridge render`.
//
// # Routes file
//
//	limits:
//	  maxTextLength: 2000      # runes per message text; longer text ends in "…"
//	  maxSubjectLength: 200    # runes per conversation subject
//	routes:
//	  github:                  # POST /webhooks/github; 1-64 of [A-Za-z0-9_-]
//	    verify: {preset: github, secrets: [github]}   # or `verify: none`, explicitly
//	    event: {header: X-GitHub-Event, field: action} # event "issues.opened"
//	    deliveryId: '{{ .payload.id }}'               # optional; see Idempotency
//	    handshake: github                             # optional; see Handshakes
//	    notify:                                       # optional; see Notifications
//	      bot: {id: github-bot, name: GitHub}
//	      recipients: [{id: alice, access: ReadWrite, notify: true}]
//	    actions:
//	      - name: issue                                # optional, shown in reasons
//	        on: [issues.opened, issues.closed]         # optional event list
//	        when: payload.issue.user.type != "Bot"     # optional expr filter
//	        conversation:
//	          id: 'github-{{ slugid .payload.repository.full_name }}'  # required
//	          subject: 'GitHub · {{ .payload.repository.full_name }}'
//	          photoUrl: ...
//	          participants: [github]
//	          custom: {source: github}
//	          welcomeMessages: [...]
//	        users:                                     # upserted first
//	          github: {name: GitHub, photoUrl: ..., email: [...], role: ..., custom: {...}}
//	        message:                                   # or messages: [ ... ] (at most 10)
//	          type: UserMessage                        # or SystemMessage (default)
//	          sender: github                           # UserMessage only
//	          text: '*Issue #{{ .payload.issue.number }}* {{ .payload.issue.title }}'
//	          custom: {url: '{{ .payload.issue.html_url }}'}
//	          referencedMessageId: ...
//	        idempotencyKey: 'issue-{{ .payload.issue.id }}'  # optional override
//	reminders:
//	  standup:
//	    schedule: weekday-9am    # rule/schedule name that runs it; default: the reminder's name
//	    conversations: [team-eng] # an explicit list, or:
//	    select: conversation.custom.team == "eng"   # filter over listed conversations
//	    type: UserMessage         # default SystemMessage
//	    sender: standup-bot
//	    text: 'Standup time in {{ .conversation.subject }}'
//	    custom: {kind: standup}
//
// A form-encoded body is read from its payload field (GitHub), or else as
// an object of its fields (Twilio), each a string, or a list of strings when
// repeated.
//
// verify takes a preset name as a scalar (`verify: github`) or a block with
// the fields of verify.Config (preset, secrets, header, prefix, algorithm,
// encoding, signed, timestampHeader, tolerance, username). secrets are names
// looked up in the webhookSecrets object of the TalkJS secret; they default
// to the route's name. There is no default preset: `verify: none` must be
// written to accept unsigned requests.
//
// event derives the event name from a header (or the first present of a
// list of spellings), a payload field (a dotted
// path), or both joined by "." (a missing field is allowed when a header is
// set: GitHub push has no action). An action's on lists event names; an
// entry matches the same name, any name below it ("issues" matches
// "issues.opened"), or everything ("*"). An action without on matches every
// event. Every matching action produces one Send, in file order.
//
// # Handshakes
//
// handshake (github, slack, zoom, twitch, graph, eventgrid, or none) names
// the sender's endpoint check, which Routes.Handshake answers in the
// sender's shape before anything is mapped: GitHub's ping (200, nothing
// sent), Slack's url_verification and Twitch's callback verification (the
// challenge as text/plain), Zoom's endpoint.url_validation (plainToken and
// its HMAC), Microsoft Graph's validationToken query parameter (echoed) and
// Event Grid's SubscriptionValidationEvent (validationResponse). All but
// Graph's are answered only after the request verifies. The presets github,
// slack, zoom and twitch imply their handshake; `handshake: none` turns it
// off. Webhook also answers a handshake (Result.Handshake) and never maps
// one into messages.
//
// # Notifications
//
// TalkJS notifies participants of UserMessages only. notify gives a route a
// bot user, upserted and made a participant of every conversation the
// route sends to, and recipients (existing users, each with optional access
// ReadWrite|Read and notify true|false|MentionsOnly; ids are templates, an
// empty one is skipped) who join the conversation (Send.Recipients). The
// route's messages become UserMessages from the bot, unless a message sets
// its type or sender itself. The bot user gets custom.bridge = "true"
// (BridgeMarker) so a route fed by TalkJS's own webhooks can skip the
// bridge's messages. Send.Notified lists who TalkJS would notify.
//
// # Templates
//
// Every text field is a Go text/template over
//
//	.headers  request headers under lower-case names (index .headers "x-github-delivery")
//	.payload  the parsed JSON body (whole numbers stay exact int64s)
//	.route    the route name
//	.event    the event name
//	.now      the request time (UTC)
//
// Reminders see .conversation (id, subject, custom, participants,
// createdAt), .reminder, .schedule and .time (the scheduled time; also .now).
// A missing key is an error (the payload does not fit the route, HTTP 400),
// never "<no value>"; use get for optional fields. Functions: default DEF V,
// get V "a.b.0.c" (null when missing; header names in any case), truncate N
// V, join SEP LIST, first LIST, firstLine V, lower, upper, title, trim, slug, slugid
// (for ids), date LAYOUT V (a Go layout or rfc3339, date, datetime, time; V a
// time, RFC 3339 string or Unix seconds), money AMOUNT CURRENCY (minor units,
// as Stripe sends them, or a string of them as Paddle does), replace OLD
// NEW V, trimPrefix PREFIX V, split SEP V, json V, raw V, plus the text/template builtins.
// There is no access to the environment or files.
//
// In message text, welcome messages and conversation subjects, every value
// a template prints is escaped so that it cannot create TalkJS markup: < >
// (links and action buttons) and * _ ~ ` (formatting) become lookalikes
// (‹ › ∗ ˍ ∼ ˋ), except * _ ~ inside a word (high_memory_load), which TalkJS
// never formats; control and bidirectional-override characters are dropped.
// The template's own text is kept, so a template may write *bold* or
// <{{ .payload.url }}|open>. A pipeline ending in raw is inserted as is.
// Text that renders empty (after trimming) is not sent; the action is
// reported as skipped, so a template can decide not to speak.
//
// Filters (when, select) are github.com/expr-lang/expr expressions over the
// same names (payload.issue.number, headers["x-github-event"]), required to
// yield a boolean. Parse and Load compile and type-check them at load; the
// embedded file's are checked the same way by its tests and `bridge validate`
// and compiled on first use.
//
// Default does not parse the embedded routes.yaml: it decodes routes.bin,
// the same routes already parsed, generated from routes.yaml by `make
// routes-bin` (go generate) and checked against it by the tests; it parses
// the YAML only when routes.bin was made from another routes.yaml.
//
// # Idempotency
//
// Each message's key is "<route>:<delivery>:<action index>", plus
// ":<message index>" when an action sends several. The delivery is the
// route's deliveryId template when set (Stripe: the event id in the body),
// else the id the route's signature covers (webhook-id or svix-id for
// standard-webhooks, see verify.Config.SignedDeliveryID), else "sha256-" and 128 bits of
// the body's SHA-256. Headers the signature does not cover
// (X-GitHub-Delivery, X-Shopify-Webhook-Id) are never used: a replay of a
// captured body with a new one would be a new message. A delivery id that is
// long or holds unusual characters is replaced by its hash; keys stay within
// 128 ASCII characters. An action's idempotencyKey template replaces the
// whole key. Reminder keys are "rem:<schedule>:<unix time>:<reminder>:<conversation>".
//
// # Errors
//
// Webhook and Trusted return errors matching one of ErrRouteNotFound (404),
// ErrUnverified (401; also matches verify.ErrUnverified and the specific
// verify sentinel), ErrSecretUnavailable (5xx), ErrInvalidPayload (400) or
// ErrEventNotHandled (202, with Result.Skipped saying why). Parse returns a
// *LoadError listing every problem with its route, field and line.
package mapping
