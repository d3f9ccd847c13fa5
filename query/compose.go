package query

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Compose returns text as the events are written, for matching them:
// composed (NFC: "Co\u0302te", as some copy-paste gives it, is Côte),
// with full-width ASCII (an East Asian keyboard's ＷＡＲ, ＂peace talks＂)
// as ASCII and the Latin ligatures of typeset text (the ﬁ of a PDF's
// "ﬁre") as their letters. Other compatibility characters stay: the
// events write ½ and ², which their full decomposition (1⁄2, 2) would
// no longer find.
func Compose(text string) string {
	text = norm.NFC.String(text)
	if !strings.ContainsFunc(text, widthOrLigature) {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			b.WriteRune(r - 0xFEE0)
		case r >= 0xFB00 && r <= 0xFB06:
			b.WriteString(norm.NFKC.String(string(r)))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func widthOrLigature(r rune) bool {
	return r >= 0xFF01 && r <= 0xFF5E || r >= 0xFB00 && r <= 0xFB06
}
