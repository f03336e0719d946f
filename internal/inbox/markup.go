package inbox

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Node is one piece of a message's text after TalkJS markup was applied:
// plain text (Tag empty) or an element whose Tag is one of strong, em, s,
// code, a, br, ul and li. Text is always plain text, never markup: the page
// inserts it as a text node. Href is set on links only, and only to an
// absolute http, https or mailto URL.
type Node struct {
	Tag  string `json:"tag,omitempty"`
	Text string `json:"text,omitempty"`
	Href string `json:"href,omitempty"`
	Kids []Node `json:"kids,omitempty"`
}

// Element names a Node may carry; the page refuses any other.
const (
	tagBold   = "strong"
	tagItalic = "em"
	tagStrike = "s"
	tagCode   = "code"
	tagLink   = "a"
	tagBreak  = "br"
	tagList   = "ul"
	tagItem   = "li"
)

// maxMarkupText bounds the text Markup parses; longer text is shown as it
// is, so a huge message cannot make every poll slow.
const maxMarkupText = 20_000

// Markup parses TalkJS's message markup (see the package doc for what is
// supported and what was assumed) into nodes. It never fails: text that is
// not valid markup stays as it was, as TalkJS shows it. It is pure and safe
// to call concurrently.
func Markup(text string) []Node {
	if text == "" {
		return nil
	}
	if len(text) > maxMarkupText {
		return []Node{{Text: text}}
	}
	var out []Node
	lineStart := true
	for text != "" {
		// Code is the one markup that may span lines, so it is split off
		// before the text is cut into lines.
		i := strings.Index(text, "```")
		if i < 0 {
			out = append(out, blocks(text, lineStart)...)
			break
		}
		j := strings.Index(text[i+3:], "```")
		if j <= 0 { // unclosed, or empty (``````): literal
			out = append(out, blocks(text[:i+3], lineStart)...)
			lineStart = false
			text = text[i+3:]
			continue
		}
		out = append(out, blocks(text[:i], lineStart)...)
		out = append(out, Node{Tag: tagCode, Kids: []Node{{Text: text[i+3 : i+3+j]}}})
		text = text[i+3+j+3:]
		lineStart = false
	}
	return merge(out)
}

// blocks parses text without code spans: lines joined by breaks, with runs
// of "- ", "* " or "+ " lines as a bulleted list. lineStart says whether the
// first line starts a line of the message (and so may be a list item).
func blocks(text string, lineStart bool) []Node {
	if text == "" {
		return nil
	}
	var out []Node
	var list *Node
	prevItem := false
	for n, line := range strings.Split(text, "\n") {
		item, ok := listItem(line)
		ok = ok && (n > 0 || lineStart)
		if ok {
			if list == nil {
				out = append(out, Node{Tag: tagList})
				list = &out[len(out)-1]
			}
			list.Kids = append(list.Kids, Node{Tag: tagItem, Kids: inline(item, true)})
			prevItem = true
			continue
		}
		list = nil
		// A list is a block: the line after it needs no break of its own.
		if n > 0 && !prevItem {
			out = append(out, Node{Tag: tagBreak})
		}
		prevItem = false
		out = append(out, inline(line, true)...)
	}
	return out
}

// listItem reports whether line is a bulleted list item and returns its text.
func listItem(line string) (string, bool) {
	t := strings.TrimLeft(line, " \t")
	if len(t) < 3 || !strings.ContainsRune("-*+", rune(t[0])) || t[1] != ' ' {
		return "", false
	}
	item := strings.TrimSpace(t[2:])
	return item, item != ""
}

var (
	// linkSyntax is <url|label>, anchored where the scan is.
	linkSyntax = regexp.MustCompile(`^<([A-Za-z][A-Za-z0-9+.-]*:[^\s|<>]+)\|([^<>|]+)>`)
	// bareURL is an http(s) URL up to whitespace or an angle bracket.
	bareURL = regexp.MustCompile(`^(?i:https?)://[^\s<>]+`)
)

// inline parses one line: <url|label> links, bare URLs, and *bold*,
// _italic_ and ~strikethrough~ at word boundaries, nested as written.
// links is false inside a link's label, where TalkJS can have no link.
func inline(s string, links bool) []Node {
	var out []Node
	start := 0 // of the pending plain text
	var ends map[byte][]int
	flush := func(end int) {
		if end > start {
			out = append(out, Node{Text: s[start:end]})
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case links && c == '<':
			if m := linkSyntax.FindStringSubmatch(s[i:]); m != nil && validURL(m[1]) {
				flush(i)
				out = append(out, Node{Tag: tagLink, Href: m[1], Kids: inline(m[2], false)})
				i += len(m[0])
				start = i
				continue
			}
		case links && (c == 'h' || c == 'H') && !wordBefore(s, i):
			if loc := bareURL.FindStringIndex(s[i:]); loc != nil {
				u := trimURL(s[i : i+loc[1]])
				if validURL(u) {
					flush(i)
					out = append(out, Node{Tag: tagLink, Href: u, Kids: []Node{{Text: u}}})
					i += len(u)
					start = i
					continue
				}
			}
		case c == '*' || c == '_' || c == '~':
			if ends == nil {
				ends = closers(s)
			}
			if j := closer(s, i, ends[c]); j > 0 {
				flush(i)
				out = append(out, Node{Tag: markerTag(c), Kids: inline(s[i+1:j], links)})
				i = j + 1
				start = i
				continue
			}
		}
		i++
	}
	flush(len(s))
	return out
}

func markerTag(c byte) string {
	switch c {
	case '*':
		return tagBold
	case '_':
		return tagItalic
	}
	return tagStrike
}

// closers lists, for each marker, where in s it may close markup: after a
// non-space and before the end of the line or a non-word character. Listing
// them once keeps a line full of unclosed markers linear to parse.
func closers(s string) map[byte][]int {
	out := map[byte][]int{}
	for j := 1; j < len(s); j++ {
		m := s[j]
		if m != '*' && m != '_' && m != '~' {
			continue
		}
		if r, _ := utf8.DecodeLastRuneInString(s[:j]); unicode.IsSpace(r) {
			continue
		}
		if r, _ := utf8.DecodeRuneInString(s[j+1:]); j+1 < len(s) && isWord(r) {
			continue
		}
		out[m] = append(out[m], j)
	}
	return out
}

// closer returns where the marker s[i] is closed, or -1. TalkJS applies
// markup only at word boundaries: the opening marker follows the start of
// the line or a non-word character and is followed by a non-space; the
// closing one (from ends, see closers) follows a non-space and is followed
// by the end of the line or a non-word character. The marked-up text is not
// empty.
func closer(s string, i int, ends []int) int {
	if wordBefore(s, i) {
		return -1
	}
	if r, _ := utf8.DecodeRuneInString(s[i+1:]); i+1 >= len(s) || unicode.IsSpace(r) {
		return -1
	}
	if k := sort.SearchInts(ends, i+2); k < len(ends) {
		return ends[k]
	}
	return -1
}

// wordBefore reports whether s[i] follows a letter or digit.
func wordBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return isWord(r)
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// trimURL drops the punctuation a sentence puts after a URL ("see
// https://x.y/a." or "(https://x.y/a)"), keeping closing brackets the URL
// opened itself, as in Wikipedia links.
func trimURL(u string) string {
	for u != "" {
		last := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?'\"*_~", last) >= 0:
			u = u[:len(u)-1]
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"),
			last == ']' && strings.Count(u, "[") < strings.Count(u, "]"),
			last == '}' && strings.Count(u, "{") < strings.Count(u, "}"):
			u = u[:len(u)-1]
		default:
			return u
		}
	}
	return u
}

// validURL accepts absolute http and https URLs with a host, and mailto
// URLs: TalkJS wants absolute URLs, and no other scheme may reach an href
// (javascript: and data: would run or show attacker content).
func validURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	case "mailto":
		return u.Opaque != ""
	}
	return false
}

// merge joins adjacent text nodes, which splitting around code leaves.
func merge(ns []Node) []Node {
	out := ns[:0]
	for _, n := range ns {
		if k := len(out) - 1; k >= 0 && n.Tag == "" && out[k].Tag == "" {
			out[k].Text += n.Text
			continue
		}
		out = append(out, n)
	}
	return out
}
