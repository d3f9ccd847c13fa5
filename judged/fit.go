package judged

import (
	"fmt"
	"io"
	"slices"
)

// Param is a weight a fit may change: its name, the values it tries, and
// how to read and set it on a weights value W.
type Param[W any] struct {
	Name   string
	Values []float64
	Get    func(*W) float64
	Set    func(*W, float64)
}

// Fit improves w for the queries qids by coordinate ascent: for each
// parameter in turn, it keeps the value that gives the best mean of
// score (nDCG@10, say), until a round changes nothing or rounds are done.
// Ties keep the current value, so a parameter the queries do not
// reward stays as it was.
func Fit[W any](w W, params []Param[W], qids []string, rounds int, score func(W, []string) float64) W {
	best := score(w, qids)
	for range rounds {
		changed := false
		for _, p := range params {
			cur := p.Get(&w)
			for _, v := range p.Values {
				if v == cur {
					continue
				}
				try := w
				p.Set(&try, v)
				if s := score(try, qids); s > best+1e-9 {
					best, w, changed = s, try, true
				}
			}
		}
		if !changed {
			break
		}
	}
	return w
}

// CV is the result of a cross-validation.
type CV struct {
	HeldOut []float64 // the score of each fold, with weights fitted on the other folds
	Fitted  []any     // the weights fitted for each fold
}

// Mean returns the mean held-out score.
func (c CV) Mean() float64 {
	s := 0.0
	for _, v := range c.HeldOut {
		s += v
	}
	return s / float64(max(1, len(c.HeldOut)))
}

// Range returns the lowest and highest held-out fold score.
func (c CV) Range() (float64, float64) {
	if len(c.HeldOut) == 0 {
		return 0, 0
	}
	return slices.Min(c.HeldOut), slices.Max(c.HeldOut)
}

// CrossValidate fits w on all folds but one and scores the weights on the
// one left out, for each fold in turn. log, if not nil, gets a line per
// fold.
func CrossValidate[W any](w W, params []Param[W], folds [][]string, rounds int, score func(W, []string) float64, log io.Writer) CV {
	var cv CV
	for i, test := range folds {
		var train []string
		for j, f := range folds {
			if j != i {
				train = append(train, f...)
			}
		}
		fitted := Fit(w, params, train, rounds, score)
		s := score(fitted, test)
		cv.HeldOut = append(cv.HeldOut, s)
		cv.Fitted = append(cv.Fitted, fitted)
		if log != nil {
			fmt.Fprintf(log, "fold %d: %d queries, held-out %.3f, fitted on %d: %s\n", i+1, len(test), s, len(train), Describe(fitted, params))
		}
	}
	return cv
}

// Describe lists params' values in w.
func Describe[W any](w W, params []Param[W]) string {
	out := ""
	for i, p := range params {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%s=%g", p.Name, p.Get(&w))
	}
	return out
}
