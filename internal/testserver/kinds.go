package testserver

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Kinds of server.
const (
	MySQL   = "mysql"   // Oracle MySQL
	MariaDB = "mariadb" // MariaDB, for the MySQL engine's second server
	Mongo   = "mongo"
	// FerretPG is a second MongoDB-compatible server, for the Mongo engine: FerretDB on its
	// PostgreSQL backend, which pushes filters and sorts down to PostgreSQL and its indexes (where
	// FerretDB's SQLite backend, the Mongo kind's substitute, scans). Same URL forms as Mongo.
	FerretPG = "ferretpg"
	S3       = "s3" // MinIO
	// SeaweedFS is a second S3 server (SeaweedFS's S3 gateway), for the S3 engine's second
	// implementation: same URL forms and credentials as S3.
	SeaweedFS = "seaweedfs"
	Azure     = "azure"
)

// Kinds lists every kind of server, in a stable order.
var Kinds = []string{MySQL, MariaDB, Mongo, FerretPG, S3, SeaweedFS, Azure}

// spec describes how to run and reach one kind of server. The images a user expects are the
// defaults; scripts/test-images.sh builds substitutes (FerretDB on SQLite and on PostgreSQL, MySQL from Debian sid, MariaDB,
// MinIO and SeaweedFS from source, Azurite on Debian) that take the same environment and command (ignoring what
// they do not need), so this table needs no second flavour.
type spec struct {
	image   string            // default image; keep in step with scripts/test-images.sh
	sub     string            // the local substitute scripts/test-images.sh builds
	port    string            // container port, e.g. "3306/tcp"
	env     map[string]string // container environment
	cmd     []string          // container command; nil keeps the image's default
	example string            // an example EVENTSTORE_<KIND>_URL, for messages
	// ready is how long a fresh container may take to answer (the official mysql image initializes
	// its data directory on first start).
	ready time.Duration
	// base returns the base URL of a server listening on 127.0.0.1:port.
	base func(port int) string
	// open returns an administrative client for the server at the base URL; it dials nothing yet.
	open func(base string) (admin, error)
}

// admin is an administrative connection to a server: it checks that the server answers and creates
// and removes the storage of isolated tests.
type admin interface {
	// ping returns nil once the server answers requests.
	ping(ctx context.Context) error
	// create makes storage name ready for a test (a no-op where the engine creates it itself).
	create(ctx context.Context, name string) error
	// drop removes storage name and everything in it.
	drop(ctx context.Context, name string) error
	// isolated returns the URL naming storage name on the server of the base URL.
	isolated(name string) string
	close() error
}

var specs = map[string]*spec{
	MySQL: {
		image:   "mysql:8.4",
		sub:     "goeventstore/mysql:9.7",
		port:    "3306/tcp",
		env:     map[string]string{"MYSQL_ALLOW_EMPTY_PASSWORD": "yes", "MYSQL_ROOT_HOST": "%"},
		example: "mysql://root@127.0.0.1:3306/",
		ready:   3 * time.Minute,
		base:    func(port int) string { return fmt.Sprintf("mysql://root@127.0.0.1:%d/", port) },
		open:    openMySQL,
	},
	MariaDB: {
		image:   "mariadb:10.11",
		sub:     "goeventstore/mariadb:10.11",
		port:    "3306/tcp",
		env:     map[string]string{"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD": "1", "MARIADB_ROOT_HOST": "%"},
		example: "mysql://root@127.0.0.1:3306/",
		ready:   3 * time.Minute,
		base:    func(port int) string { return fmt.Sprintf("mysql://root@127.0.0.1:%d/", port) },
		open:    openMySQL,
	},
	Mongo: {
		image:   "mongo:8.0",
		sub:     "goeventstore/ferretdb:1.24.0-sqlite",
		port:    "27017/tcp",
		example: "mongodb://127.0.0.1:27017/",
		ready:   2 * time.Minute,
		base:    func(port int) string { return fmt.Sprintf("mongodb://127.0.0.1:%d/", port) },
		open:    openMongo,
	},
	FerretPG: {
		// No official image holds FerretDB with PostgreSQL: the default is the image
		// scripts/test-images.sh builds.
		image:   "goeventstore/ferretdb:1.24.0-postgresql",
		sub:     "goeventstore/ferretdb:1.24.0-postgresql",
		port:    "27017/tcp",
		example: "mongodb://127.0.0.1:27017/",
		ready:   2 * time.Minute,
		base:    func(port int) string { return fmt.Sprintf("mongodb://127.0.0.1:%d/", port) },
		open:    openMongo,
	},
	S3: {
		image: "minio/minio:RELEASE.2025-04-22T22-12-26Z",
		sub:   "goeventstore/minio:local",
		port:  "9000/tcp",
		env: map[string]string{
			"MINIO_ROOT_USER":     s3AccessKey,
			"MINIO_ROOT_PASSWORD": s3SecretKey,
			"MINIO_BROWSER":       "off",
			"MINIO_UPDATE":        "off",
		},
		cmd:     []string{"server", "/data", "--address", ":9000"},
		example: "s3://?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=us-east-1&use_path_style=true&access_key_id=ID&secret_access_key=SECRET",
		ready:   2 * time.Minute,
		base: func(port int) string {
			return s3URL("", fmt.Sprintf("http://127.0.0.1:%d", port), s3Region, s3AccessKey, s3SecretKey)
		},
		open: openS3,
	},
	SeaweedFS: {
		image: "chrislusf/seaweedfs:4.53",
		sub:   "goeventstore/seaweedfs:4.53",
		port:  "8333/tcp",
		// Without an S3 configuration, the gateway makes an admin identity of these (and checks
		// every request's signature against it).
		env: map[string]string{
			"AWS_ACCESS_KEY_ID":     s3AccessKey,
			"AWS_SECRET_ACCESS_KEY": s3SecretKey,
		},
		cmd:     seaweedCmd,
		example: "s3://?endpoint=http%3A%2F%2F127.0.0.1%3A8333&region=us-east-1&use_path_style=true&access_key_id=ID&secret_access_key=SECRET",
		ready:   2 * time.Minute,
		base: func(port int) string {
			return s3URL("", fmt.Sprintf("http://127.0.0.1:%d", port), s3Region, s3AccessKey, s3SecretKey)
		},
		open: openS3,
	},
	Azure: {
		image: "mcr.microsoft.com/azure-storage/azurite:3.37.0",
		sub:   "goeventstore/azurite:3.37.0",
		port:  "10002/tcp",
		cmd: []string{"azurite-table", "--tableHost", "0.0.0.0", "--tablePort", "10002",
			"--location", "/tmp", "--skipApiVersionCheck", "--disableTelemetry"},
		example: "azuretables://?endpoint=http%3A%2F%2F127.0.0.1%3A10002%2Fdevstoreaccount1&account=devstoreaccount1&account_key=KEY",
		ready:   2 * time.Minute,
		base: func(port int) string {
			return azureURL("", fmt.Sprintf("http://127.0.0.1:%d/%s", port, azuriteAccount), azuriteAccount, azuriteKey)
		},
		open: openAzure,
	},
}

// image returns the image to run for kind, and the substitute to fall back on when it is the default
// image and that cannot be had (empty if EVENTSTORE_<KIND>_IMAGE chose the image).
func image(kind string) (img, sub string) {
	if v := os.Getenv(imageVar(kind)); v != "" {
		return v, ""
	}
	return specs[kind].image, specs[kind].sub
}
