package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

const twilioHeader = "X-Twilio-Signature"

// twilioCheck verifies X-Twilio-Signature: base64 HMAC-SHA1, keyed with the
// account's Auth Token, of the full public URL followed by every POST
// parameter as name+value, names sorted, each name's values sorted,
// duplicates dropped. A JSON body is signed differently: the URL carries
// bodySHA256=<hex SHA-256 of the body> and no parameters are appended. The
// URL is tried without its port and with the scheme's default port added,
// as Twilio's own validator does, because Twilio may sign either spelling
// (twilio/twilio-python request_validator.py). Several secrets are the
// primary and secondary Auth Tokens during rotation. Twilio signs no
// timestamp: there is no replay window.
func twilioCheck(keys [][]byte) checkFunc {
	return func(_ *Verifier, r *Request) error {
		raw := header(r.Header, twilioHeader)
		if raw == "" {
			return fmt.Errorf("%w: no %s header", ErrMissingSignature, twilioHeader)
		}
		sig, err := base64.StdEncoding.DecodeString(raw)
		if err != nil || len(sig) != sha1.Size {
			return fmt.Errorf("%w: %s is not a 20-byte base64 HMAC", ErrMalformedSignature, twilioHeader)
		}
		msg, err := twilioMessage(r.URL, r.Body)
		if err != nil {
			return err
		}
		for _, u := range twilioURLs(r.URL) {
			if macMatches(sha1.New, keys, [][]byte{sig}, []byte(u), msg) {
				return nil
			}
		}
		return fmt.Errorf("%w: %s matches no secret for the request's URL", ErrSignatureMismatch, twilioHeader)
	}
}

// twilioMessage checks the public URL and returns what follows it in the
// signed string: the sorted form parameters, or nothing when the URL
// carries bodySHA256, which must then match the body.
func twilioMessage(public string, body []byte) ([]byte, error) {
	u, err := url.Parse(public)
	if public == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: the twilio preset signs the public URL; the request's URL is missing or not absolute", ErrMissingURL)
	}
	if want := u.Query().Get("bodySHA256"); want != "" {
		got := sha256.Sum256(body)
		dec, err := hex.DecodeString(want)
		if err != nil || len(dec) != sha256.Size {
			return nil, fmt.Errorf("%w: the URL's bodySHA256 is not a hex SHA-256", ErrMalformedSignature)
		}
		if !macEqual(dec, got[:]) {
			return nil, fmt.Errorf("%w: the body does not match the URL's bodySHA256", ErrSignatureMismatch)
		}
		return nil, nil
	}
	params, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: the body is not form-encoded parameters", ErrMalformedSignature)
	}
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		vals := slices.Clone(params[name])
		slices.Sort(vals)
		for _, val := range slices.Compact(vals) {
			b.WriteString(name)
			b.WriteString(val)
		}
	}
	return []byte(b.String()), nil
}

// twilioURLs returns the URL without any port and with the scheme's default
// port added when it has none, editing only the authority so the path and
// query keep their exact bytes.
func twilioURLs(public string) []string {
	scheme, rest, _ := strings.Cut(public, "://")
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo := ""
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, authority = authority[:i+1], authority[i+1:]
	}
	host, port := authority, ""
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.Contains(authority[i:], "]") {
		host, port = authority[:i], authority[i+1:]
	}
	build := func(hostport string) string { return scheme + "://" + userinfo + hostport + tail }
	without := build(host)
	if port != "" {
		return []string{without, public}
	}
	def := "443"
	if strings.EqualFold(scheme, "http") {
		def = "80"
	}
	return []string{without, build(host + ":" + def)}
}
