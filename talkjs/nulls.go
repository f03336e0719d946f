package talkjs

import (
	"encoding/json"
	"slices"
)

// Fields of a user, conversation or message that an update can clear by
// sending null, named as on the wire. TalkJS documents them as nullable in
// the PUT bodies of users and conversations (name is not nullable); a whole
// message custom object is cleared with null in TalkJS's anonymisation example.
const (
	FieldEmail           = "email"
	FieldPhone           = "phone"
	FieldPhotoURL        = "photoUrl"
	FieldRole            = "role"
	FieldLocale          = "locale"
	FieldWelcomeMessage  = "welcomeMessage"
	FieldCustom          = "custom"
	FieldSubject         = "subject"
	FieldWelcomeMessages = "welcomeMessages"
)

var (
	userNullable         = []string{FieldEmail, FieldPhone, FieldPhotoURL, FieldRole, FieldLocale, FieldWelcomeMessage, FieldCustom}
	conversationNullable = []string{FieldSubject, FieldPhotoURL, FieldCustom, FieldWelcomeMessages}
	messageNullable      = []string{FieldCustom}
)

// checkClears refuses a field to clear that is not nullable in this body, or
// that is also set, and a custom key both set and cleared.
func checkClears(what string, clear []string, nullable []string, isSet func(string) bool, clearCustom []string, custom map[string]string) error {
	for _, f := range clear {
		if !slices.Contains(nullable, f) {
			return invalidf("%s: field %q cannot be cleared (nullable: %v)", what, f, nullable)
		}
		if isSet(f) {
			return invalidf("%s: field %q is both set and cleared", what, f)
		}
	}
	for _, k := range clearCustom {
		if _, set := custom[k]; set {
			return invalidf("%s: custom key %q is both set and cleared", what, k)
		}
		if slices.Contains(clear, FieldCustom) {
			return invalidf("%s: custom key %q cleared along with the whole custom object", what, k)
		}
	}
	return nil
}

// withNulls adds "field": null for each field in clear, and "key": null
// inside custom for each key in clearCustom, to the JSON object obj.
func withNulls(obj []byte, clear, clearCustom []string, custom map[string]string) ([]byte, error) {
	if len(clear) == 0 && len(clearCustom) == 0 {
		return obj, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, err
	}
	for _, f := range clear {
		m[f] = json.RawMessage("null")
	}
	if len(clearCustom) > 0 {
		c := make(map[string]*string, len(custom)+len(clearCustom))
		for k, v := range custom {
			c[k] = &v
		}
		for _, k := range clearCustom {
			c[k] = nil
		}
		b, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		m[FieldCustom] = b
	}
	return json.Marshal(m)
}
