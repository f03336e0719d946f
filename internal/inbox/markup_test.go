package inbox

import (
	"html"
	"strings"
	"testing"
)

// renderHTML writes nodes as HTML the way the page builds its DOM from
// them: text escaped, only the known elements, links only to checked URLs.
func renderHTML(ns []Node) string {
	var b strings.Builder
	var walk func([]Node)
	walk = func(ns []Node) {
		for _, n := range ns {
			switch n.Tag {
			case "":
				b.WriteString(html.EscapeString(n.Text))
			case tagBreak:
				b.WriteString("<br>")
			case tagLink:
				b.WriteString(`<a href="` + html.EscapeString(n.Href) + `">`)
				walk(n.Kids)
				b.WriteString("</a>")
			default:
				b.WriteString("<" + n.Tag + ">")
				walk(n.Kids)
				b.WriteString("</" + n.Tag + ">")
			}
		}
	}
	walk(ns)
	return b.String()
}

func TestMarkup(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello world", "hello world"},
		{"empty", "", ""},
		{"bold", "a *bold* b", "a <strong>bold</strong> b"},
		{"italic", "_italic_", "<em>italic</em>"},
		{"strikethrough", "~gone~ now", "<s>gone</s> now"},
		{"code", "run ```make run``` now", "run <code>make run</code> now"},
		{"code keeps markers and newlines", "```a *b*\n<i>```", "<code>a *b*\n&lt;i&gt;</code>"},
		{"single backticks stay", "`code`", "`code`"},
		{"phrase", "*this becomes bold*", "<strong>this becomes bold</strong>"},
		{"nested bold italic", "*_combined_* like this", "<strong><em>combined</em></strong> like this"},
		{"nested italic bold", "_*combined*_", "<em><strong>combined</strong></em>"},
		{"nested inside phrase", "*very _much_ so*", "<strong>very <em>much</em> so</strong>"},
		{"unclosed bold", "*bold and more", "*bold and more"},
		{"unclosed inner", "*a _b*", "<strong>a _b</strong>"},
		{"unclosed outer, closed inner", "*a _b_", "*a <em>b</em>"},
		{"markers inside words", "this_ doesn't _change", "this_ doesn&#39;t _change"},
		{"snake case", "use snake_case_names here", "use snake_case_names here"},
		{"arithmetic", "2 * 3 * 4", "2 * 3 * 4"},
		{"space after opener", "* not bold*", "<ul><li>not bold*</li></ul>"},
		{"space before closer", "*not bold *", "*not bold *"},
		{"empty markers", "** and __", "** and __"},
		{"no newline inside", "*bold\nstill*", "*bold<br>still*"},
		{"punctuation around", "(*bold*), _it_!", "(<strong>bold</strong>), <em>it</em>!"},
		{"unicode word", "é*x*", "é*x*"},
		{"emoji kept", "🔥 *FIRING* ✅", "🔥 <strong>FIRING</strong> ✅"},
		{"emoji shortcode stays text", "deploy done :tada:", "deploy done :tada:"},
		{"line breaks", "one\ntwo\n\nthree", "one<br>two<br><br>three"},
		{"list", "Alerts:\n- one\n* two\n+ three\nafter", "Alerts:<ul><li>one</li><li>two</li><li>three</li></ul>after"},
		{"list with markup", "- *a* on https://x.example/a", `<ul><li><strong>a</strong> on <a href="https://x.example/a">https://x.example/a</a></li></ul>`},
		{"dash without space", "-1 point", "-1 point"},
		{"bare URL", "see https://example.com/a?b=1&c=2 now", `see <a href="https://example.com/a?b=1&amp;c=2">https://example.com/a?b=1&amp;c=2</a> now`},
		{"URL then period", "See https://example.com/x.", `See <a href="https://example.com/x">https://example.com/x</a>.`},
		{"URL in parentheses", "(https://example.com/x)", `(<a href="https://example.com/x">https://example.com/x</a>)`},
		{"URL with balanced parentheses", "https://en.wikipedia.org/wiki/Go_(language), ok", `<a href="https://en.wikipedia.org/wiki/Go_(language)">https://en.wikipedia.org/wiki/Go_(language)</a>, ok`},
		{"URL with underscores", "_see https://x.example/a_b_c_", `<em>see <a href="https://x.example/a_b_c">https://x.example/a_b_c</a></em>`},
		{"bold URL", "*https://example.com*", `<strong><a href="https://example.com">https://example.com</a></strong>`},
		{"URL with quotes", `https://example.com/"onmouseover="x`, `<a href="https://example.com/&#34;onmouseover=&#34;x">https://example.com/&#34;onmouseover=&#34;x</a>`},
		{"http URL", "http://localhost:9093/#/alerts", `<a href="http://localhost:9093/#/alerts">http://localhost:9093/#/alerts</a>`},
		{"scheme only", "https:// nothing", "https:// nothing"},
		{"URL glued to a word", "xhttps://example.com", "xhttps://example.com"},
		{"link syntax", "<https://example.com|Read more>.", `<a href="https://example.com">Read more</a>.`},
		{"mailto link", "<mailto:hello@example.com|Email us>", `<a href="mailto:hello@example.com">Email us</a>`},
		{"link label markup", "<https://example.com|*Read* more>", `<a href="https://example.com"><strong>Read</strong> more</a>`},
		{"link label no nested URL", "<https://a.example|https://b.example>", `<a href="https://a.example">https://b.example</a>`},
		{"relative link stays text", "</path|label>", "&lt;/path|label&gt;"},
		{"javascript link stays text", "<javascript:alert(1)|click>", "&lt;javascript:alert(1)|click&gt;"},
		{"data link stays text", "<data:text/html,<script>|x>", "&lt;data:text/html,&lt;script&gt;|x&gt;"},
		{"unclosed link", "<https://example.com|label", "&lt;https://example.com|label"},
		{"script tag", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"img onerror", `<img src=x onerror="alert(1)">`, "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"},
		{"bold script", "*<script>x</script>*", "<strong>&lt;script&gt;x&lt;/script&gt;</strong>"},
		{"action button stays text", "<actionbutton:retry>Retry</actionbutton>", "&lt;actionbutton:retry&gt;Retry&lt;/actionbutton&gt;"},
		{"entity stays text", "&lt;b&gt; &amp;", "&amp;lt;b&amp;gt; &amp;amp;"},
		{"unclosed code", "```open", "```open"},
		{"empty code", "``````", "``````"},
		{"code then list", "```x```\n- item", "<code>x</code><ul><li>item</li></ul>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := renderHTML(Markup(tt.in)); got != tt.want {
				t.Errorf("Markup(%q)\n got  %s\n want %s", tt.in, got, tt.want)
			}
		})
	}
}

// Whatever the input, text nodes hold text and links hold only checked
// URLs: the page can then build the DOM without ever parsing HTML.
func TestMarkupNodesAreSafe(t *testing.T) {
	inputs := []string{
		"<https://x.example|<img src=x>>", "<javascript:alert(1)|x>", "*<b>*", "_</em><script>_",
		"https://x.example/<script>", "<HTTPS://X.EXAMPLE|ok>", "<mailto:|x>", strings.Repeat("*_~", 1000),
		strings.Repeat("x", maxMarkupText+1),
	}
	allowed := map[string]bool{"": true, tagBold: true, tagItalic: true, tagStrike: true, tagCode: true, tagLink: true, tagBreak: true, tagList: true, tagItem: true}
	var check func(in string, ns []Node)
	check = func(in string, ns []Node) {
		for _, n := range ns {
			if !allowed[n.Tag] {
				t.Errorf("Markup(%.40q): node with tag %q", in, n.Tag)
			}
			if n.Tag == tagLink && !validURL(n.Href) {
				t.Errorf("Markup(%.40q): link to %q", in, n.Href)
			}
			if n.Tag != tagLink && n.Href != "" {
				t.Errorf("Markup(%.40q): %q node with href %q", in, n.Tag, n.Href)
			}
			check(in, n.Kids)
		}
	}
	for _, in := range inputs {
		check(in, Markup(in))
	}
}

func FuzzMarkup(f *testing.F) {
	for _, s := range []string{"*a* _b_ ~c~ ```d```", "<https://x.example|y>", "- a\n- b", "https://x.example/(a)."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var text func([]Node) string
		text = func(ns []Node) string {
			var b strings.Builder
			for _, n := range ns {
				b.WriteString(n.Text)
				b.WriteString(text(n.Kids))
				if n.Tag == tagLink && !validURL(n.Href) {
					t.Fatalf("link to %q", n.Href)
				}
			}
			return b.String()
		}
		// Markup only removes markers, brackets and newlines: every other
		// character of the text is shown.
		got := text(Markup(s))
		strip := strings.NewReplacer("*", "", "_", "", "~", "", "`", "", "<", "", ">", "", "|", "", "\n", "", " ", "", "+", "", "-", "")
		if len(strip.Replace(got)) > len(strip.Replace(s)) {
			t.Fatalf("Markup(%q) shows more text than it was given: %q", s, got)
		}
	})
}
