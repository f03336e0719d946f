package routeschema

import "github.com/talkjs-bridge/talkjs-bridge/mapping/verify"

// Scalar is a YAML scalar the parser reads as text: a template, a filter,
// a name. Numbers and booleans are scalars too.
type Scalar string

// Strings is a scalar or a list of scalars.
type Strings []Scalar

// File is a routes file.
type File struct {
	Routes    map[string]Route    `json:"routes" desc:"Webhook routes by name: POST /webhooks/{name} (and queue records with \"route\") go through the route of that name." schema:"required"`
	Reminders map[string]Reminder `json:"reminders,omitempty" desc:"Reminders by name, run by the schedule function."`
	Limits    *Limits             `json:"limits,omitempty" desc:"Limits on what the templates render."`
}

// Limits caps rendered text.
type Limits struct {
	MaxTextLength    int `json:"maxTextLength,omitempty" desc:"Most runes of a message text; longer text is cut with an ellipsis." min:"10" max:"65536"`
	MaxSubjectLength int `json:"maxSubjectLength,omitempty" desc:"Most runes of a conversation subject." min:"10" max:"65536"`
}

// Route maps one sender's webhooks to TalkJS messages.
type Route struct {
	Verify     Verify        `json:"verify" desc:"How requests are verified: a preset name (none for unsigned requests) or a mapping with preset and its options." schema:"required"`
	Event      *Event        `json:"event,omitempty" desc:"Where the event name comes from, for the actions' on lists."`
	DeliveryID Scalar        `json:"deliveryId,omitempty" desc:"Template of the delivery id the idempotency keys derive from (default: the sender's delivery header, else the body's hash)."`
	Handshake  HandshakeKind `json:"handshake,omitempty" desc:"The sender's endpoint check, answered before mapping (github, slack, zoom and twitch are implied by their presets; none turns that off)."`
	Notify     *Notify       `json:"notify,omitempty" desc:"Who the route's messages reach: they come from the bot, a participant, as UserMessages, and the recipients join the conversation."`
	Actions    []Action      `json:"actions" desc:"What to send; every action whose on and when match sends." schema:"required" minItems:"1"`
}

// HandshakeKind is one of mapping.Handshakes().
type HandshakeKind string

// Notify is a route's notify block.
type Notify struct {
	Bot        NotifyBot   `json:"bot" desc:"The user the route's messages come from; upserted and made a participant." schema:"required"`
	Recipients []Recipient `json:"recipients,omitempty" desc:"Existing users who join each conversation: an id, or {id, access, notify}." minItems:"1"`
}

// NotifyBot is the user a route's messages come from.
type NotifyBot struct {
	ID       Scalar `json:"id" desc:"User id (template)." schema:"required"`
	Name     Scalar `json:"name" desc:"Display name." schema:"required"`
	PhotoURL Scalar `json:"photoUrl,omitempty"`
}

// Recipient is a user id, or a RecipientSettings.
type Recipient struct{ RecipientSettings }

// RecipientSettings is a recipient with its participation settings.
type RecipientSettings struct {
	ID     Scalar `json:"id" desc:"User id (template; empty means nobody)." schema:"required"`
	Access Scalar `json:"access,omitempty" desc:"ReadWrite (TalkJS's default) or Read."`
	Notify Scalar `json:"notify,omitempty" desc:"true (TalkJS's default), false or MentionsOnly."`
}

// Verify is a preset name or a verify.Config.
type Verify struct{ verify.Config }

// Event names the header or payload field holding the event name.
type Event struct {
	Header Strings `json:"header,omitempty" desc:"Request header holding the event name (X-GitHub-Event), or a list of spellings tried in order."`
	Field  Scalar  `json:"field,omitempty" desc:"Dotted payload field holding the event name (type)."`
}

// Action is one send: a conversation and its messages.
type Action struct {
	Name           Scalar          `json:"name,omitempty" desc:"A name for logs and skip reasons."`
	On             Strings         `json:"on,omitempty" desc:"Event names this action handles (needs the route's event)."`
	When           Scalar          `json:"when,omitempty" desc:"Filter expression over payload, headers, event; the action sends only when it is true."`
	Conversation   Conversation    `json:"conversation" desc:"The conversation to send to, upserted first when it sets more than id." schema:"required"`
	Users          map[string]User `json:"users,omitempty" desc:"Users to upsert first, by id (a template)."`
	Message        *Message        `json:"message,omitempty" desc:"The message to send (or messages)."`
	Messages       []Message       `json:"messages,omitempty" desc:"Messages to send in one request (or message)." minItems:"1" maxItems:"10"`
	IdempotencyKey Scalar          `json:"idempotencyKey,omitempty" desc:"Template of the idempotency key, instead of the derived one."`
}

// Conversation is a TalkJS conversation, all fields templates.
type Conversation struct {
	ID              Scalar            `json:"id" desc:"Conversation id (template)." schema:"required"`
	Subject         Scalar            `json:"subject,omitempty" desc:"Subject (template, TalkJS markup escaped)."`
	PhotoURL        Scalar            `json:"photoUrl,omitempty"`
	Participants    Strings           `json:"participants,omitempty" desc:"User ids to add as participants."`
	Custom          map[string]Scalar `json:"custom,omitempty"`
	WelcomeMessages Strings           `json:"welcomeMessages,omitempty"`
}

// User is a TalkJS user, all fields templates.
type User struct {
	Name     Scalar            `json:"name" desc:"Display name; TalkJS needs one to create a user." schema:"required"`
	Email    Strings           `json:"email,omitempty" desc:"Email address, or a list of them."`
	PhotoURL Scalar            `json:"photoUrl,omitempty"`
	Role     Scalar            `json:"role,omitempty"`
	Custom   map[string]Scalar `json:"custom,omitempty"`
}

// Message is a TalkJS message.
type Message struct {
	Type                MessageType       `json:"type,omitempty" desc:"SystemMessage (default) or UserMessage (needs sender)."`
	Sender              Scalar            `json:"sender,omitempty" desc:"Sender's user id, for a UserMessage."`
	Text                Scalar            `json:"text" desc:"Message text (template)." schema:"required"`
	Custom              map[string]Scalar `json:"custom,omitempty"`
	ReferencedMessageID Scalar            `json:"referencedMessageId,omitempty"`
}

// MessageType is SystemMessage or UserMessage.
type MessageType string

// Reminder is a message sent on a schedule.
type Reminder struct {
	Schedule      Scalar            `json:"schedule,omitempty" desc:"The EventBridge rule or Scheduler schedule name that runs it (default: the reminder's name)."`
	Conversations Strings           `json:"conversations,omitempty" desc:"Conversation ids to send to (or select)."`
	Select        Scalar            `json:"select,omitempty" desc:"Filter expression choosing conversations (or conversations)."`
	Type          MessageType       `json:"type,omitempty"`
	Sender        Scalar            `json:"sender,omitempty"`
	Text          Scalar            `json:"text" schema:"required"`
	Custom        map[string]Scalar `json:"custom,omitempty"`
}
