package client

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// invalidUTF8 returns the JSON path of the first string in v that is not
// valid UTF-8 ("" when there is none). encoding/json would send each bad
// byte as U+FFFD without a word, and the server would then store or
// search for the replaced text, where it refuses the bytes themselves.
func invalidUTF8(v any) string {
	return walkUTF8(reflect.ValueOf(v), "")
}

func walkUTF8(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			return path
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return walkUTF8(v.Elem(), path)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p := walkUTF8(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := fmt.Sprint(iter.Key().Interface())
			if !utf8.ValidString(k) {
				return join(path, "(a key)")
			}
			if p := walkUTF8(iter.Value(), join(path, k)); p != "" {
				return p
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if f.Anonymous {
				name = ""
			}
			if p := walkUTF8(v.Field(i), join(path, name)); p != "" {
				return p
			}
		}
	}
	return ""
}

func join(path, name string) string {
	switch {
	case path == "":
		return name
	case name == "":
		return path
	}
	return path + "." + name
}
