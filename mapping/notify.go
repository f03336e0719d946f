package mapping

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// BridgeMarker is the custom field set on the bot user of every route with
// a notify block ("true"), so a route fed by TalkJS's own webhooks can skip
// the bridge's messages.
const BridgeMarker = "bridge"

// A route's notify block says who its messages are for. TalkJS notifies
// (email, push, SMS) the participants of a conversation about UserMessages
// only; a SystemMessage notifies nobody, and a conversation without
// participants has nobody to notify. With notify set, every action of the
// route
//
//   - upserts the bot user and makes it a participant of the conversation,
//
//   - joins each recipient with its access and notify settings, and
//
//   - sends its messages as UserMessages from the bot, unless a message
//     says type: SystemMessage (or names its own sender) explicitly.
//
//     notify:
//     bot: {id: stripe-bot, name: Stripe, photoUrl: https://...}
//     recipients:
//
//   - {id: billing-team, notify: true}             # access ReadWrite by default
//
//   - {id: cfo, access: Read, notify: MentionsOnly}
//
//   - id: '{{ get .payload "data.object.metadata.owner" }}'  # empty: skipped
type notifyTmpl struct {
	botID      *tmpl
	botName    *tmpl
	botPhoto   *tmpl
	recipients []recipientTmpl
}

type recipientTmpl struct {
	id     *tmpl
	access talkjs.Access
	notify talkjs.Notify
}

func (p *parser) parseNotify(route, field string, n *yaml.Node) *notifyTmpl {
	es, ok := p.mapping(n, route, field, "bot", "recipients")
	if !ok {
		return nil
	}
	nt := &notifyTmpl{}
	before := len(p.problems)
	for _, e := range es {
		f := join(field, e.key)
		switch e.key {
		case "bot":
			bes, _ := p.mapping(e.val, route, f, "id", "name", "photoUrl")
			for _, be := range bes {
				switch be.key {
				case "id":
					nt.botID = p.template(be.val, route, f+".id", false)
				case "name":
					nt.botName = p.template(be.val, route, f+".name", false)
				case "photoUrl":
					nt.botPhoto = p.template(be.val, route, f+".photoUrl", false)
				}
			}
			if nt.botID == nil {
				p.add(route, f+".id", deref(e.val), "missing: the bot user's id (messages come from it)")
			}
			if nt.botName == nil {
				p.add(route, f+".name", deref(e.val), "missing: TalkJS needs a name to create a user")
			}
		case "recipients":
			rn := deref(e.val)
			if rn == nil || rn.Kind != yaml.SequenceNode || len(rn.Content) == 0 {
				p.add(route, f, rn, "want a non-empty list of recipients ({id, access, notify}), got %s", nodeKind(rn))
				continue
			}
			for i, c := range rn.Content {
				if rt, ok := p.parseRecipient(route, fmt.Sprintf("%s[%d]", f, i), c); ok {
					nt.recipients = append(nt.recipients, rt)
				}
			}
		}
	}
	if !slices.ContainsFunc(es, func(e entry) bool { return e.key == "bot" }) {
		p.add(route, field+".bot", deref(n), "missing: the user the route's messages come from ({id, name})")
	}
	if len(p.problems) > before {
		return nil
	}
	return nt
}

func (p *parser) parseRecipient(route, field string, n *yaml.Node) (recipientTmpl, bool) {
	var rt recipientTmpl
	if dn := deref(n); dn != nil && dn.Kind == yaml.ScalarNode {
		// A bare id: default settings.
		rt.id = p.template(dn, route, field, false)
		return rt, rt.id != nil
	}
	es, ok := p.mapping(n, route, field, "id", "access", "notify")
	if !ok {
		return rt, false
	}
	before := len(p.problems)
	for _, e := range es {
		f := join(field, e.key)
		s, ok := p.scalar(e.val, route, f)
		if !ok {
			continue
		}
		switch e.key {
		case "id":
			rt.id = p.template(e.val, route, f, false)
		case "access":
			switch a := talkjs.Access(s); a {
			case talkjs.AccessReadWrite, talkjs.AccessRead:
				rt.access = a
			default:
				p.add(route, f, deref(e.val), "want ReadWrite or Read, got %q", s)
			}
		case "notify":
			switch strings.ToLower(s) {
			case "true":
				rt.notify = talkjs.NotifyOn
			case "false":
				rt.notify = talkjs.NotifyOff
			case "mentionsonly":
				rt.notify = talkjs.NotifyMentionsOnly
			default:
				p.add(route, f, deref(e.val), "want true, false or MentionsOnly, got %q", s)
			}
		}
	}
	if rt.id == nil && len(p.problems) == before {
		p.add(route, field+".id", deref(n), "missing: the TalkJS user id to notify")
	}
	return rt, len(p.problems) == before
}

// apply adds the route's bot and recipients to s and returns the bot's
// id, which render makes the sender of the messages.
func (nt *notifyTmpl) apply(s *Send, data map[string]any) (string, error) {
	bot, err := renderID(talkjs.KindUser, nt.botID, data)
	if err != nil {
		return "", fmt.Errorf("notify.bot.id: %w", err)
	}
	uu, ok := s.Users[bot]
	if !ok {
		name, err := nt.botName.render(data)
		if err != nil {
			return "", fmt.Errorf("notify.bot.name: %w", err)
		}
		uu.Name = &name
		if nt.botPhoto != nil {
			v, err := nt.botPhoto.render(data)
			if err != nil {
				return "", fmt.Errorf("notify.bot.photoUrl: %w", err)
			}
			uu.PhotoURL = &v
		}
	}
	// The marker lets a talkjs route (message.sent) tell the bridge's own
	// messages from people's and never answer them: no loops.
	if uu.Custom == nil {
		uu.Custom = map[string]string{}
	}
	uu.Custom[BridgeMarker] = "true"
	if s.Users == nil {
		s.Users = map[string]talkjs.UserUpdate{}
	}
	s.Users[bot] = uu
	if s.Conversation == nil {
		s.Conversation = &talkjs.ConversationUpdate{}
	}
	if !slices.Contains(s.Conversation.Participants, bot) {
		s.Conversation.Participants = append(s.Conversation.Participants, bot)
	}
	for i, rt := range nt.recipients {
		id, err := rt.id.render(data)
		if err != nil {
			return "", fmt.Errorf("notify.recipients[%d].id: %w", i, err)
		}
		if id = strings.TrimSpace(id); id == "" || id == bot {
			// An empty id is a template saying "nobody for this event".
			continue
		}
		if err := talkjs.ValidateID(talkjs.KindUser, id); err != nil {
			return "", fmt.Errorf("notify.recipients[%d].id: %w", i, err)
		}
		if s.Recipients == nil {
			s.Recipients = map[string]talkjs.Participation{}
		}
		s.Recipients[id] = talkjs.Participation{Access: rt.access, Notify: rt.notify}
	}
	return bot, nil
}

// Notified lists, sorted, the users TalkJS would notify of the send's
// messages: the recipients whose notify setting is not off, provided at
// least one message is a UserMessage (SystemMessages notify nobody), minus
// the senders of those messages. Participants added through
// conversation.participants have TalkJS's default (notify on) and are
// listed too. It is what `bridge render` shows.
func (s Send) Notified() []string {
	senders := map[string]bool{}
	user := false
	for _, m := range s.Messages {
		if m.Type == talkjs.UserMessage {
			user = true
			senders[m.Sender] = true
		}
	}
	if !user {
		return nil
	}
	var out []string
	for id, p := range s.Recipients {
		if p.Notify != talkjs.NotifyOff && !senders[id] {
			out = append(out, id)
		}
	}
	if s.Conversation != nil {
		for _, id := range s.Conversation.Participants {
			if _, ok := s.Recipients[id]; !ok && !senders[id] && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out
}
