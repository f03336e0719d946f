package talkjstest

import (
	"fmt"
	"strings"
	"time"
)

// REST API versions the emulator knows, from TalkJS's API changelog
// (https://talkjs.com/docs/Reference/REST_API/API_changelog/). Versions are
// dates, so they compare as strings.
const (
	// VersionFirst is the first REST API version.
	VersionFirst = "2021-01-01"
	// VersionOrdering made conversation listings sortable (orderBy,
	// orderDirection, offsetTs) and sorted them by last activity by default.
	VersionOrdering = "2021-02-09"
	// VersionUnknownUser404 made listing the conversations of an unknown
	// user answer 404 instead of an empty list.
	VersionUnknownUser404 = "2024-01-01"
	// VersionLatest is the newest version the changelog lists (listing the
	// conversations of an unknown user answers 404). The emulator answers
	// as this version when a request names none, as TalkJS answers with the
	// app's default version, which is the latest for a new app.
	VersionLatest = "2024-01-01"
)

// SetDefaultRESTVersion sets the version used for requests without a
// TalkJS-REST-Version header (default VersionLatest), as the app's dashboard
// setting does on TalkJS. It panics on a value that is not a YYYY-MM-DD date,
// since that is a mistake in the test. Reset does not change it.
func (e *Emulator) SetDefaultRESTVersion(v string) {
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		panic(fmt.Sprintf("talkjstest: SetDefaultRESTVersion(%q): not a YYYY-MM-DD date", v))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.defaultVersion = v
}

// restVersion returns the version a request asks for with its
// TalkJS-REST-Version header (or a batch operation with api_version), or the
// default. A value that is not a YYYY-MM-DD date is refused (assumed: the
// docs do not say what TalkJS does with one). A well-formed date between two
// versions means the newest version not after it, which comparing dates as
// strings gives for free.
func (e *Emulator) restVersion(h string) (string, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.defaultVersion, nil
	}
	if _, err := time.Parse(time.DateOnly, h); err != nil {
		return "", fmt.Errorf("TalkJS-REST-Version must be a date like %s, got %q", VersionOrdering, h)
	}
	if h < VersionFirst {
		return "", fmt.Errorf("TalkJS-REST-Version %s is older than the first version %s", h, VersionFirst)
	}
	return h, nil
}
