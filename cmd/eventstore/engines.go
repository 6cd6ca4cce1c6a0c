package main

// The engines linked into the command: each blank import registers its URL
// scheme (persistence.Register). Engines written later are one line more.
import (
	_ "github.com/goeventstore/eventstore/persistence/azuretables" // azuretables://
	_ "github.com/goeventstore/eventstore/persistence/memory"      // memory://
	_ "github.com/goeventstore/eventstore/persistence/mongo"       // mongodb://, mongodb+srv://
	_ "github.com/goeventstore/eventstore/persistence/mysql"       // mysql://
	_ "github.com/goeventstore/eventstore/persistence/s3"          // s3://
)

// engineExamples shows a URL of each engine this repository has, for the
// engines command and error messages. Engines not linked in are listed as
// such.
var engineExamples = []struct{ scheme, example, pkg string }{
	{"memory", "memory://", "github.com/goeventstore/eventstore/persistence/memory"},
	{"mongodb", "mongodb://127.0.0.1:27017/events", "github.com/goeventstore/eventstore/persistence/mongo"},
	{"mysql", "mysql://root@127.0.0.1:3306/events", "github.com/goeventstore/eventstore/persistence/mysql"},
	{"s3", "s3://BUCKET?region=us-east-1", "github.com/goeventstore/eventstore/persistence/s3"},
	{"azuretables", "azuretables://TABLE?account=ACCOUNT", "github.com/goeventstore/eventstore/persistence/azuretables"},
}
