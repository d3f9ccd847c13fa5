package mappings

// asciiWords calls fn with the byte range of each word of s, where s is
// ASCII: the segments github.com/blevesearch/segment's word segmenter
// gives a type other than None, by the same rules (Unicode's word
// boundaries, UAX #29, which for ASCII are: letters and digits run
// together; one '.', '\” or ':' joins two letters; one '.', '\”, ','
// or ';' joins two digits). It reports false, having called nothing, for
// text it does not cover (any byte above 0x7f, or '_', which joins
// words by rules of its own): the caller segments that with the
// library. The segmenter was 6% of a build's CPU, most of it on ASCII
// text; TestAnalyser_SameAsBleve compares the two on every event of the
// fixtures (and, with -corpus, of the real corpus).
func asciiWords(s []byte, fn func(start, end int)) bool {
	for _, c := range s {
		if c >= 0x80 || c == '_' {
			return false
		}
	}
	for i := 0; i < len(s); {
		if kind(s[i]) == other {
			i++
			continue
		}
		start := i
		for {
			for i < len(s) && kind(s[i]) != other {
				i++
			}
			if i+1 >= len(s) {
				break
			}
			prev, mid, next := kind(s[i-1]), s[i], kind(s[i+1])
			if prev == letter && next == letter && (mid == '.' || mid == '\'' || mid == ':') ||
				prev == digit && next == digit && (mid == '.' || mid == '\'' || mid == ',' || mid == ';') {
				i++
				continue
			}
			break
		}
		fn(start, i)
	}
	return true
}

// The word-boundary classes of ASCII bytes that asciiWords tells apart.
const (
	other = iota
	letter
	digit
)

func kind(c byte) int {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		return letter
	case '0' <= c && c <= '9':
		return digit
	}
	return other
}
