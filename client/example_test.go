package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"os"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/api"
	"github.com/newsdesk/newsdesk/build"
	"github.com/newsdesk/newsdesk/client"
	"github.com/newsdesk/newsdesk/index"
	"github.com/newsdesk/newsdesk/related"
	"github.com/newsdesk/newsdesk/search"
	"github.com/newsdesk/newsdesk/serving"
)

const adminKey = "example-admin-key-0123456789"

// searchd serves the fixture events as searchd does (a built generation,
// served with its admin routes on) and returns its URL and a function
// that stops it.
func searchd() (string, func()) {
	dir, err := os.MkdirTemp("", "client-example-")
	if err != nil {
		log.Fatal(err)
	}
	d, err := index.NewDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := build.Run(context.Background(), build.Config{Dir: d, Files: []string{"testdata/events.jsonl"}}); err != nil {
		log.Fatal(err)
	}
	srv := serving.New(serving.Config{Dir: d})
	if _, err := srv.Load(context.Background()); err != nil {
		log.Fatal(err)
	}
	h := api.New(api.Config{
		Searcher: func() api.Searcher { return srv.Engine() },
		Info: func() api.Info {
			i := srv.Info()
			return api.Info{Generation: i.Generation, Events: i.Events, FirstDate: i.FirstDate, LastDate: i.LastDate,
				IndexBytes: i.DiskBytes, UpdateSeq: i.Applied}
		},
		Admin: &api.Admin{Key: adminKey,
			Reload: func(ctx context.Context) (any, error) { return srv.Load(ctx) },
			Bulk: func(ctx context.Context, us []api.Update) ([]string, error) {
				updates := make([]index.Update, len(us))
				for i, u := range us {
					updates[i] = index.Update{Upsert: u.Upsert, Delete: u.Delete}
				}
				return srv.Update(ctx, updates)
			}},
	})
	ts := httptest.NewServer(h)
	return ts.URL, func() { ts.Close(); srv.Close(); os.RemoveAll(dir) }
}

func Example() {
	url, stop := searchd()
	defer stop()
	ctx := context.Background()

	c, err := client.New(client.Config{URL: url, Key: adminKey})
	if err != nil {
		log.Fatal(err)
	}

	// A search, typed as the engine takes it.
	res, err := c.Search(ctx, search.Request{Q: "astana", Sort: "-date", Size: 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Total, "events; newest:")
	for _, h := range res.Hits {
		fmt.Println(" ", h.Date, h.Text)
	}

	// The stories related to the first.
	items, err := c.Related(ctx, related.Request{ID: res.Hits[0].ID, Size: 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(items), "related stories, each with its reason")

	// An error is a value carrying the API's code and the parameter at fault.
	_, err = c.Search(ctx, search.Request{Q: "astana", Size: 500})
	var ae *client.Error
	if errors.As(err, &ae) {
		fmt.Println(ae.Status, ae.Code, ae.Param)
	}

	// Bulk updates, with the admin key: one item per update.
	bulk, err := c.Bulk(ctx, []api.Update{
		{Upsert: &newsdesk.Event{ID: "2019-06-01/a-flamingo-escapes-from-the-zoo", Date: "2019-06-01", Text: "A flamingo escapes from the zoo."}},
		{Delete: "2019-06-02/no-such-event"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, it := range bulk.Items {
		fmt.Println("bulk line", it.Line, it.Op, it.Status, it.Result)
	}
	info, err := c.Info(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Events, "events served; journal applied up to byte", info.UpdateSeq)
	// Output:
	// 3 events; newest:
	//   2017-01-24 The second day of negotiations in Astana ends with a commission to monitor the ceasefire.
	//   2017-01-23 Peace talks in Astana, Kazakhstan, end with no breakthrough reported.
	// 2 related stories, each with its reason
	// 400 invalid_parameter size
	// bulk line 1 upsert 201 created
	// bulk line 2 delete 404 not_found
	// 33 events served; journal applied up to byte 180
}
