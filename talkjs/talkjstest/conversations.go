package talkjstest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Conversation is a stored conversation. Empty strings and nil slices stand
// for null.
type Conversation struct {
	ID              string
	Subject         string
	PhotoURL        string
	WelcomeMessages []string
	Custom          map[string]string
	Participants    map[string]Participant // by user id
	CreatedAt       int64                  // Unix milliseconds
}

// Participant is one user's participation in a conversation.
type Participant struct {
	Access       string // "ReadWrite", "Read" or "None"
	Notify       bool   // false when MentionsOnly
	MentionsOnly bool   // notify is "MentionsOnly"
}

func defaultParticipant() Participant { return Participant{Access: "ReadWrite", Notify: true} }

type convRec struct {
	Conversation
	seq uint64
	// activitySeq and activityMs are the sequence number and time of the last
	// activity: the creation, then each stored message (not edits, deletes or
	// participant changes: assumed, the docs do not define "activity").
	activitySeq uint64
	activityMs  int64
	messages    []*msgRec          // oldest first
	idem        map[string]*msgRec // idempotencyKey -> the first message that carried it
}

var conversationFields = []string{"participants", "subject", "welcomeMessages", "custom", "photoUrl"}

// participantJSON is a participation as TalkJS answers it.
type participantJSON struct {
	Access   string `json:"access"`
	Notify   any    `json:"notify"` // true, false or "MentionsOnly"
	IsUnread bool   `json:"isUnread"`
}

// conversationJSON is a conversation as TalkJS answers it.
type conversationJSON struct {
	ID              string                     `json:"id"`
	Subject         *string                    `json:"subject"`
	PhotoURL        *string                    `json:"photoUrl"`
	WelcomeMessages []string                   `json:"welcomeMessages"`
	Custom          map[string]string          `json:"custom"`
	TopicID         *string                    `json:"topicId"`
	LastMessage     *messageJSON               `json:"lastMessage"`
	Participants    map[string]participantJSON `json:"participants"`
	CreatedAt       int64                      `json:"createdAt"`
}

func (p Participant) wire() participantJSON {
	var n any = p.Notify
	if p.MentionsOnly {
		n = "MentionsOnly"
	}
	return participantJSON{Access: p.Access, Notify: n}
}

func (c *convRec) wire() conversationJSON {
	out := conversationJSON{
		ID: c.ID, Subject: ptr(c.Subject), PhotoURL: ptr(c.PhotoURL), WelcomeMessages: c.WelcomeMessages,
		Custom: nonNilMap(c.Custom), Participants: map[string]participantJSON{}, CreatedAt: c.CreatedAt,
	}
	for id, p := range c.Participants {
		pj := p.wire()
		pj.IsUnread = c.unreadFor(id)
		out.Participants[id] = pj
	}
	if n := len(c.messages); n > 0 {
		m := c.messages[n-1].wire()
		out.LastMessage = &m
	}
	return out
}

// unreadFor tells whether the conversation is unread for a user. The emulator
// keeps no read receipts: it is unread when its last message came from
// someone else.
func (c *convRec) unreadFor(userID string) bool {
	n := len(c.messages)
	return n > 0 && c.messages[n-1].SenderID != userID
}

func (c *convRec) lastMessageAt() (int64, bool) {
	if n := len(c.messages); n > 0 {
		return c.messages[n-1].CreatedAt, true
	}
	return 0, false
}

func (e *Emulator) putConversation(id string, body []byte) (int, any) {
	m, err := e.object(body, "conversation", conversationFields...)
	if err != nil {
		return badRequest("conversation %q: %v", id, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var c Conversation
	old, exists := e.convs[id]
	if exists {
		c = old.Conversation
	}
	c = c.clone()
	if c.Participants == nil {
		c.Participants = map[string]Participant{}
	}
	for k, v := range m {
		var err error
		switch k {
		case "subject":
			c.Subject, _, err = stringField(v, k)
		case "photoUrl":
			c.PhotoURL, _, err = stringField(v, k)
		case "welcomeMessages":
			c.WelcomeMessages, err = stringsField(v, k)
		case "custom":
			if isNull(v) {
				c.Custom = nil
				continue
			}
			c.Custom, err = mergeCustom(c.Custom, v, k)
		case "participants":
			// PUT merges: the given users join (with the defaults) and no one
			// leaves. Users need not exist yet: the docs let any user join.
			var ids []string
			if ids, err = stringsField(v, k); err == nil {
				for _, uid := range ids {
					if uid == "" {
						err = fmt.Errorf("participants: empty user id")
						break
					}
					if _, ok := c.Participants[uid]; !ok {
						c.Participants[uid] = defaultParticipant()
					}
				}
			}
		}
		if err != nil {
			return badRequest("conversation %q: %v", id, err)
		}
	}
	if err := e.participantLimitLocked(id, len(c.Participants)); err != nil {
		return badRequest("%v", err)
	}
	if exists {
		old.Conversation = c
		return http.StatusOK, empty
	}
	seq, ms := e.nextLocked()
	c.ID, c.CreatedAt = id, ms
	e.convs[id] = &convRec{Conversation: c, seq: seq, activitySeq: seq, activityMs: ms, idem: map[string]*msgRec{}}
	return http.StatusOK, empty
}

func (e *Emulator) getConversation(id string) (int, any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.convs[id]
	if !ok {
		return notFound("no conversation %q", id)
	}
	return http.StatusOK, c.wire()
}

// deleteConversation removes the conversation and its messages. An unknown
// conversation is a 404 (assumed: the docs do not say).
func (e *Emulator) deleteConversation(id string) (int, any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.convs[id]
	if !ok {
		return notFound("no conversation %q", id)
	}
	for _, m := range c.messages {
		delete(e.msgs, m.ID)
	}
	delete(e.convs, id)
	return http.StatusOK, empty
}

// conversationOrder is how a listing sorts conversations.
type conversationOrder struct {
	byActivity bool  // lastMessageTs; else createdAt
	asc        bool  // oldest first; else latest first
	offsetTs   int64 // with hasOffset: only conversations strictly past this time in the listing's direction
	hasOffset  bool
}

// parseOrder reads orderBy, orderDirection and offsetTs for API version v.
// Before 2021-02-09 TalkJS lists by createdAt DESC and "cannot be changed":
// the parameters are ignored then (assumed, rather than refused). From
// 2021-02-09 on the default is the last activity, latest first. The value
// names (createdAt, lastMessageTs; ASC, DESC in any case) are assumptions:
// the docs we could read cut off before listing them.
func parseOrder(q url.Values, v string) (conversationOrder, error) {
	if v < VersionOrdering {
		return conversationOrder{}, nil
	}
	o := conversationOrder{byActivity: true}
	switch by := q.Get("orderBy"); by {
	case "", "lastMessageTs":
	case "createdAt":
		o.byActivity = false
	default:
		return o, fmt.Errorf("orderBy must be createdAt or lastMessageTs, got %q", by)
	}
	switch dir := strings.ToUpper(q.Get("orderDirection")); dir {
	case "", "DESC":
	case "ASC":
		o.asc = true
	default:
		return o, fmt.Errorf("orderDirection must be ASC or DESC, got %q", q.Get("orderDirection"))
	}
	if q.Has("offsetTs") {
		n, err := strconv.ParseInt(q.Get("offsetTs"), 10, 64)
		if err != nil {
			return o, fmt.Errorf("offsetTs must be a Unix timestamp in milliseconds, got %q", q.Get("offsetTs"))
		}
		o.offsetTs, o.hasOffset = n, true
	}
	return o, nil
}

func (o conversationOrder) key(c *convRec) (int64, uint64) {
	if o.byActivity {
		return c.activityMs, c.activitySeq
	}
	return c.CreatedAt, c.seq
}

// compare sorts by time, then by sequence so equal milliseconds still give a
// total, stable order.
func (o conversationOrder) compare(a, b *convRec) int {
	at, as := o.key(a)
	bt, bs := o.key(b)
	r := cmp.Or(cmp.Compare(at, bt), cmp.Compare(as, bs))
	if o.asc {
		return r
	}
	return -r
}

func (o conversationOrder) keep(c *convRec) bool {
	if !o.hasOffset {
		return true
	}
	t, _ := o.key(c)
	if o.asc {
		return t > o.offsetTs
	}
	return t < o.offsetTs
}

// lastMessageFilter applies lastMessageBefore and lastMessageAfter.
func lastMessageFilter(q url.Values) (func(*convRec) bool, error) {
	before, hasBefore, err := msParam(q, "lastMessageBefore")
	if err != nil {
		return nil, err
	}
	after, hasAfter, err := msParam(q, "lastMessageAfter")
	if err != nil {
		return nil, err
	}
	return func(c *convRec) bool {
		if !hasBefore && !hasAfter {
			return true
		}
		at, ok := c.lastMessageAt()
		if !ok {
			return false
		}
		return (!hasBefore || at < before) && (!hasAfter || at > after)
	}, nil
}

func (e *Emulator) listConversations(q url.Values, version string) (int, any) {
	keep, err := lastMessageFilter(q)
	if err != nil {
		return badRequest("%v", err)
	}
	order, err := parseOrder(q, version)
	if err != nil {
		return badRequest("%v", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var all []*convRec
	for _, c := range e.convs {
		if keep(c) && order.keep(c) {
			all = append(all, c)
		}
	}
	slices.SortFunc(all, order.compare)
	return conversationPage(all, q)
}

func conversationPage(all []*convRec, q url.Values) (int, any) {
	got, err := page(all, func(c *convRec) string { return c.ID }, q)
	if err != nil {
		return badRequest("%v", err)
	}
	out := listPage[conversationJSON]{Data: make([]conversationJSON, 0, len(got))}
	for _, c := range got {
		out.Data = append(out.Data, c.wire())
	}
	return http.StatusOK, out
}

// listUserConversations lists the conversations a user takes part in, with the
// documented filters lastMessageBefore, lastMessageAfter and unreadsOnly
// (unread as unreadFor decides).
func (e *Emulator) listUserConversations(userID string, q url.Values, version string) (int, any) {
	keep, err := lastMessageFilter(q)
	if err != nil {
		return badRequest("%v", err)
	}
	order, err := parseOrder(q, version)
	if err != nil {
		return badRequest("%v", err)
	}
	unreadsOnly := false
	if q.Has("unreadsOnly") {
		switch q.Get("unreadsOnly") {
		case "true":
			unreadsOnly = true
		case "false":
		default:
			return badRequest("unreadsOnly must be true or false, got %q", q.Get("unreadsOnly"))
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.users[userID]; !ok {
		// Version 2024-01-01 made this a 404; before, an unknown user simply
		// had no conversations.
		if version < VersionUnknownUser404 {
			return http.StatusOK, listPage[conversationJSON]{Data: []conversationJSON{}}
		}
		return notFound("no user %q", userID)
	}
	var all []*convRec
	for _, c := range e.convs {
		if _, in := c.Participants[userID]; !in || !keep(c) || !order.keep(c) {
			continue
		}
		if unreadsOnly && !c.unreadFor(userID) {
			continue
		}
		all = append(all, c)
	}
	slices.SortFunc(all, order.compare)
	return conversationPage(all, q)
}

// participantLimitLocked refuses n participants in a conversation when that
// is over the limit. The docs give the limit per plan but not the answer; a
// 400 is assumed.
func (e *Emulator) participantLimitLocked(convID string, n int) error {
	if e.participantLimit > 0 && n > e.participantLimit {
		return fmt.Errorf("conversation %q would have %d participants, over the limit of %d", convID, n, e.participantLimit)
	}
	return nil
}

// participantBody decodes {access, notify}. allowNone permits access "None",
// which only PATCH accepts.
func participantBody(body []byte, p Participant, allowNone bool) (Participant, error) {
	if len(body) == 0 {
		return p, nil
	}
	m, err := object(body, "participant", "access", "notify")
	if err != nil {
		return p, err
	}
	if v, ok := m["access"]; ok {
		s, _, err := stringField(v, "access")
		if err != nil {
			return p, err
		}
		switch {
		case s == "ReadWrite" || s == "Read" || (s == "None" && allowNone):
			p.Access = s
		default:
			return p, fmt.Errorf("access must be ReadWrite or Read, got %q", s)
		}
	}
	if v, ok := m["notify"]; ok {
		var b bool
		var s string
		switch {
		case json.Unmarshal(v, &b) == nil:
			p.Notify, p.MentionsOnly = b, false
		case json.Unmarshal(v, &s) == nil && s == "MentionsOnly":
			p.Notify, p.MentionsOnly = false, true
		default:
			return p, fmt.Errorf(`notify must be true, false or "MentionsOnly", got %s`, shorten(v))
		}
	}
	return p, nil
}

// joinConversation (PUT) adds the user, overwriting any earlier settings with
// the given ones or the defaults.
func (e *Emulator) joinConversation(convID, userID string, body []byte) (int, any) {
	p, err := participantBody(body, defaultParticipant(), false)
	if err != nil {
		return badRequest("%v", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.convs[convID]
	if !ok {
		return notFound("no conversation %q", convID)
	}
	if _, in := c.Participants[userID]; !in {
		if err := e.participantLimitLocked(convID, len(c.Participants)+1); err != nil {
			return badRequest("%v", err)
		}
	}
	c.Participants[userID] = p
	return http.StatusOK, empty
}

// modifyParticipant (PATCH) changes only the given fields of a participant.
func (e *Emulator) modifyParticipant(convID, userID string, body []byte) (int, any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.convs[convID]
	if !ok {
		return notFound("no conversation %q", convID)
	}
	old, ok := c.Participants[userID]
	if !ok {
		return notFound("user %q is not a participant of conversation %q", userID, convID)
	}
	p, err := participantBody(body, old, true)
	if err != nil {
		return badRequest("%v", err)
	}
	c.Participants[userID] = p
	return http.StatusOK, empty
}

// leaveConversation (DELETE) removes the user. The docs call every
// participant call idempotent, so leaving twice is fine.
func (e *Emulator) leaveConversation(convID, userID string) (int, any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.convs[convID]
	if !ok {
		return notFound("no conversation %q", convID)
	}
	delete(c.Participants, userID)
	return http.StatusOK, empty
}

// Conversations returns every stored conversation, oldest first.
func (e *Emulator) Conversations() []Conversation {
	e.mu.Lock()
	defer e.mu.Unlock()
	all := slices.SortedFunc(maps.Values(e.convs), func(a, b *convRec) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]Conversation, len(all))
	for i, c := range all {
		out[i] = c.clone()
	}
	return out
}

// clone copies c's lists and maps, so a copy handed out or taken in shares
// nothing with the stored one.
func (c Conversation) clone() Conversation {
	c.WelcomeMessages = slices.Clone(c.WelcomeMessages)
	c.Custom = maps.Clone(c.Custom)
	c.Participants = maps.Clone(c.Participants)
	return c
}

// Conversation returns one stored conversation.
func (e *Emulator) Conversation(id string) (Conversation, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.convs[id]
	if !ok {
		return Conversation{}, false
	}
	return c.clone(), true
}

// PutConversation stores c, replacing the fields of any conversation with the
// same ID but keeping its messages; CreatedAt is set if zero. A nil
// Participants map means none. It lets tests set up data without HTTP.
func (e *Emulator) PutConversation(c Conversation) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c = c.clone()
	if c.Participants == nil {
		c.Participants = map[string]Participant{}
	}
	if old, ok := e.convs[c.ID]; ok {
		if c.CreatedAt == 0 {
			c.CreatedAt = old.CreatedAt
		}
		old.Conversation = c
		return
	}
	seq, ms := e.nextLocked()
	if c.CreatedAt == 0 {
		c.CreatedAt = ms
	}
	e.convs[c.ID] = &convRec{Conversation: c, seq: seq, activitySeq: seq, activityMs: c.CreatedAt, idem: map[string]*msgRec{}}
}

// Participants makes a participants map with the default settings (ReadWrite,
// notify) for each user id, for PutConversation.
func Participants(userIDs ...string) map[string]Participant {
	m := make(map[string]Participant, len(userIDs))
	for _, id := range userIDs {
		m[id] = defaultParticipant()
	}
	return m
}
