package talkjstest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
)

// User is a stored user. Empty strings and nil slices stand for null.
type User struct {
	ID               string
	Name             string
	Email            []string
	Phone            []string
	WelcomeMessage   string
	PhotoURL         string
	Locale           string
	Role             string
	AvailabilityText string
	Custom           map[string]string
	CreatedAt        int64 // Unix milliseconds
}

type userRec struct {
	User
	seq uint64
}

// userFields are the fields TalkJS documents for PUT /users/{id}.
var userFields = []string{"name", "email", "welcomeMessage", "photoUrl", "locale", "role", "phone", "custom", "pushTokens", "availabilityText", "headerPhotoUrl"}

// userJSON is a user as TalkJS answers it.
type userJSON struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Email            []string          `json:"email"`
	Phone            []string          `json:"phone"`
	WelcomeMessage   *string           `json:"welcomeMessage"`
	PhotoURL         *string           `json:"photoUrl"`
	Locale           *string           `json:"locale"`
	Role             *string           `json:"role"`
	AvailabilityText *string           `json:"availabilityText"`
	Custom           map[string]string `json:"custom"`
	CreatedAt        int64             `json:"createdAt"`
}

func (u *User) wire() userJSON {
	return userJSON{
		ID: u.ID, Name: u.Name, Email: u.Email, Phone: u.Phone,
		WelcomeMessage: ptr(u.WelcomeMessage), PhotoURL: ptr(u.PhotoURL), Locale: ptr(u.Locale),
		Role: ptr(u.Role), AvailabilityText: ptr(u.AvailabilityText),
		Custom: nonNilMap(u.Custom), CreatedAt: u.CreatedAt,
	}
}

// applyUser returns u with the given fields applied. A PUT updates only the
// fields it names (PATCH-like, as the docs say); null clears a field.
func (e *Emulator) applyUser(u User, raw []byte, creating bool) (User, error) {
	m, err := e.object(raw, "user", userFields...)
	if err != nil {
		return u, err
	}
	u = u.clone()
	for k, v := range m {
		var err error
		switch k {
		case "name":
			var null bool
			u.Name, null, err = stringField(v, k)
			if err == nil && (null || u.Name == "") {
				err = fmt.Errorf("name must be a non-empty string")
			}
		case "welcomeMessage":
			u.WelcomeMessage, _, err = stringField(v, k)
		case "photoUrl":
			u.PhotoURL, _, err = stringField(v, k)
		case "locale":
			u.Locale, _, err = stringField(v, k)
		case "role":
			u.Role, _, err = stringField(v, k)
		case "availabilityText":
			u.AvailabilityText, _, err = stringField(v, k)
		case "headerPhotoUrl":
			_, _, err = stringField(v, k)
		case "email":
			u.Email, err = stringOrStrings(v, k)
		case "phone":
			u.Phone, err = stringOrStrings(v, k)
		case "custom":
			if isNull(v) {
				u.Custom = nil
				continue
			}
			u.Custom, err = mergeCustom(u.Custom, v, k)
		case "pushTokens":
			// Accepted and not stored: the emulator sends no push notifications.
			if !isNull(v) {
				var t map[string]*bool
				if json.Unmarshal(v, &t) != nil {
					err = fmt.Errorf("pushTokens must be an object of true or null")
				}
			}
		}
		if err != nil {
			return u, err
		}
	}
	if creating && u.Name == "" {
		return u, fmt.Errorf("name is required when creating a user")
	}
	return u, nil
}

// stringOrStrings accepts a string or an array of strings (or null), as the
// SDKs send either for email and phone.
func stringOrStrings(v json.RawMessage, name string) ([]string, error) {
	if s, null, err := stringField(v, name); err == nil {
		if null {
			return nil, nil
		}
		return []string{s}, nil
	}
	return stringsField(v, name)
}

func (e *Emulator) putUser(id string, body []byte) (int, any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.putUserLocked(id, body)
}

func (e *Emulator) putUserLocked(id string, body []byte) (int, any) {
	old, exists := e.users[id]
	var base User
	if exists {
		base = old.User
	}
	u, err := e.applyUser(base, body, !exists)
	if err != nil {
		return badRequest("user %q: %v", id, err)
	}
	if exists {
		old.User = u
		return http.StatusOK, empty
	}
	seq, ms := e.nextLocked()
	u.ID, u.CreatedAt = id, ms
	e.users[id] = &userRec{User: u, seq: seq}
	return http.StatusOK, empty
}

// putUsers is the batch upsert: all updates apply, or none (400 with the
// reasons per user). At most 100 users per call.
func (e *Emulator) putUsers(body []byte) (int, any) {
	var m map[string]json.RawMessage
	if b := bytes.TrimSpace(body); len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &m) != nil {
		return badRequest("the body must be an object of user id to user")
	}
	if len(m) == 0 {
		return badRequest("no users given")
	}
	if len(m) > 100 {
		return badRequest("at most 100 users per call, got %d", len(m))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	reasons := map[string]string{}
	updated := map[string]User{}
	for id, raw := range m {
		var base User
		old, exists := e.users[id]
		if exists {
			base = old.User
		}
		u, err := e.applyUser(base, raw, !exists)
		if err != nil {
			reasons[id] = err.Error()
			continue
		}
		updated[id] = u
	}
	if len(reasons) > 0 {
		return http.StatusBadRequest, apiError{ErrorCode: "INVALID_ARGUMENTS", Error: fmt.Sprintf("%d of %d users are invalid; none were updated", len(reasons), len(m)), Reasons: reasons}
	}
	for _, id := range slices.Sorted(maps.Keys(updated)) {
		u := updated[id]
		if old, ok := e.users[id]; ok {
			old.User = u
			continue
		}
		seq, ms := e.nextLocked()
		u.ID, u.CreatedAt = id, ms
		e.users[id] = &userRec{User: u, seq: seq}
	}
	return http.StatusOK, empty
}

func (e *Emulator) getUser(id string) (int, any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.users[id]
	if !ok {
		return notFound("no user %q", id)
	}
	return http.StatusOK, u.wire()
}

func (e *Emulator) listUsers(q url.Values) (int, any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	all := slices.SortedFunc(maps.Values(e.users), func(a, b *userRec) int { return cmp.Compare(b.seq, a.seq) })
	got, err := page(all, func(u *userRec) string { return u.ID }, q)
	if err != nil {
		return badRequest("%v", err)
	}
	out := listPage[userJSON]{Data: make([]userJSON, 0, len(got))}
	for _, u := range got {
		out.Data = append(out.Data, u.wire())
	}
	return http.StatusOK, out
}

// Users returns every stored user, oldest first.
func (e *Emulator) Users() []User {
	e.mu.Lock()
	defer e.mu.Unlock()
	all := slices.SortedFunc(maps.Values(e.users), func(a, b *userRec) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]User, len(all))
	for i, u := range all {
		out[i] = u.clone()
	}
	return out
}

// User returns one stored user.
func (e *Emulator) User(id string) (User, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.users[id]
	if !ok {
		return User{}, false
	}
	return u.clone(), true
}

// clone copies u's lists and map, so a copy handed out or taken in shares
// nothing with the stored one.
func (u User) clone() User {
	u.Email, u.Phone, u.Custom = slices.Clone(u.Email), slices.Clone(u.Phone), maps.Clone(u.Custom)
	return u
}

// PutUser stores u as if it had been synchronized, replacing any user with the
// same ID; CreatedAt is set if zero. It lets tests set up data without HTTP.
func (e *Emulator) PutUser(u User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u = u.clone()
	if old, ok := e.users[u.ID]; ok {
		if u.CreatedAt == 0 {
			u.CreatedAt = old.CreatedAt
		}
		old.User = u
		return
	}
	seq, ms := e.nextLocked()
	if u.CreatedAt == 0 {
		u.CreatedAt = ms
	}
	e.users[u.ID] = &userRec{User: u, seq: seq}
}
