package english

// Porter's steps 1 and 5, as github.com/blevesearch/go-porterstemmer
// (v1.0.3) writes them, which keeps them unexported: Form needs the form
// of a word after its first step (the inflections) and what the last step
// does to it, and must agree with that stemmer, the index's. The rules are
// the published algorithm's (M. F. Porter, 1980).
//
// go-porterstemmer: Copyright (c) 2013 Charles Iliya Krempeaux, MIT
// License (see its LICENSE in the module).

func isConsonant(s []rune, i int) bool {
	switch s[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return false
	case 'y':
		return i == 0 || !isConsonant(s, i-1)
	}
	return true
}

// measure counts the vowel-consonant sequences of s.
func measure(s []rune) uint {
	n, i := uint(0), 0
	for i < len(s) && isConsonant(s, i) {
		i++
	}
	for i < len(s) {
		for i < len(s) && !isConsonant(s, i) {
			i++
		}
		if i >= len(s) {
			break
		}
		for i < len(s) && isConsonant(s, i) {
			i++
		}
		n++
	}
	return n
}

func hasSuffix(s []rune, suffix string) bool {
	r := []rune(suffix)
	if len(s) <= len(r) {
		return false
	}
	for i := range r {
		if s[len(s)-len(r)+i] != r[i] {
			return false
		}
	}
	return true
}

func containsVowel(s []rune) bool {
	for i := range s {
		if !isConsonant(s, i) {
			return true
		}
	}
	return false
}

func hasRepeatDoubleConsonantSuffix(s []rune) bool {
	n := len(s)
	return n >= 2 && s[n-1] == s[n-2] && isConsonant(s, n-1)
}

func hasConsonantVowelConsonantSuffix(s []rune) bool {
	n := len(s)
	return n >= 3 && isConsonant(s, n-3) && !isConsonant(s, n-2) && isConsonant(s, n-1)
}

func step1a(s []rune) []rune {
	switch {
	case hasSuffix(s, "sses"), hasSuffix(s, "ies"):
		return s[:len(s)-2]
	case hasSuffix(s, "ss"):
		return s
	case hasSuffix(s, "s"):
		return s[:len(s)-1]
	}
	return s
}

func step1b(s []rune) []rune {
	n := len(s)
	if hasSuffix(s, "eed") {
		if measure(s[:n-3]) > 0 {
			return s[:n-1]
		}
		return s
	}
	var sub []rune
	switch {
	case hasSuffix(s, "ed"):
		sub = s[:n-2]
	case hasSuffix(s, "ing"):
		sub = s[:n-3]
	default:
		return s
	}
	if !containsVowel(sub) {
		return s
	}
	c := sub[len(sub)-1]
	switch {
	case hasSuffix(sub, "at"), hasSuffix(sub, "bl"), hasSuffix(sub, "iz"):
		return append(append([]rune(nil), sub...), 'e')
	case c != 'l' && c != 's' && c != 'z' && hasRepeatDoubleConsonantSuffix(sub):
		return sub[:len(sub)-1]
	case measure(sub) == 1 && hasConsonantVowelConsonantSuffix(sub) && c != 'w' && c != 'x' && c != 'y':
		return append(append([]rune(nil), sub...), 'e')
	}
	return sub
}

func step1c(s []rune) []rune {
	n := len(s)
	if n >= 2 && s[n-1] == 'y' && containsVowel(s[:n-1]) {
		out := append([]rune(nil), s...)
		out[n-1] = 'i'
		return out
	}
	return s
}

func step5a(s []rune) []rune {
	n := len(s)
	if n == 0 || s[n-1] != 'e' {
		return s
	}
	sub := s[:n-1]
	m := measure(sub)
	if m > 1 {
		return sub
	}
	if c := sub[len(sub)-1]; m == 1 && !(hasConsonantVowelConsonantSuffix(sub) && c != 'w' && c != 'x' && c != 'y') {
		return sub
	}
	return s
}

func step5b(s []rune) []rune {
	n := len(s)
	if n > 2 && s[n-2] == 'l' && s[n-1] == 'l' && measure(s[:n-1]) > 1 {
		return s[:n-1]
	}
	return s
}
