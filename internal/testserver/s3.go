package testserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Credentials and region of the S3 test servers (MinIO's root user, SeaweedFS's admin identity).
const (
	s3AccessKey = "eventstore"
	s3SecretKey = "eventstore-secret"
	s3Region    = "us-east-1"
)

// s3URL returns s3://BUCKET?endpoint=URL&region=..&use_path_style=true&access_key_id=..&secret_access_key=..
// (the base URL when bucket is empty).
func s3URL(bucket, endpoint, region, key, secret string) string {
	q := url.Values{}
	q.Set("endpoint", endpoint)
	q.Set("region", region)
	q.Set("use_path_style", "true")
	q.Set("access_key_id", key)
	q.Set("secret_access_key", secret)
	return (&url.URL{Scheme: "s3", Host: bucket, RawQuery: q.Encode()}).String()
}

// s3Client returns an S3 client for an s3:// URL in the form this package documents (endpoint,
// region, path-style addressing and static credentials from the query), and the bucket it names.
func s3Client(rawURL string) (*s3.Client, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "s3" {
		return nil, "", fmt.Errorf("testserver: S3 URL %q: want s3://BUCKET?endpoint=URL", rawURL)
	}
	q := u.Query()
	cfg := aws.Config{
		Region: q.Get("region"),
		Credentials: credentials.NewStaticCredentialsProvider(
			q.Get("access_key_id"), q.Get("secret_access_key"), ""),
	}
	if cfg.Region == "" {
		cfg.Region = s3Region
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if e := q.Get("endpoint"); e != "" {
			o.BaseEndpoint = aws.String(e)
		}
		o.UsePathStyle = q.Get("use_path_style") != "false"
	})
	return c, u.Host, nil
}

// s3Admin manages the buckets of isolated S3 tests.
type s3Admin struct {
	base   *url.URL
	client *s3.Client
}

func openS3(base string) (admin, error) {
	c, _, err := s3Client(base)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(base)
	return &s3Admin{base: u, client: c}, nil
}

func (a *s3Admin) ping(ctx context.Context) error {
	_, err := a.client.ListBuckets(ctx, &s3.ListBucketsInput{})
	return err
}

func (a *s3Admin) create(ctx context.Context, name string) error {
	_, err := a.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	return err
}

// drop deletes every object of bucket name, then the bucket.
func (a *s3Admin) drop(ctx context.Context, name string) error {
	// An object written while the bucket was being emptied (a test's
	// writer still retrying, SeaweedFS after a restart listing late) makes
	// DeleteBucket answer BucketNotEmpty: empty it again.
	for attempt := 1; ; attempt++ {
		gone, err := a.empty(ctx, name)
		if err != nil || gone {
			return err
		}
		_, err = a.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
		var ae smithy.APIError
		if err == nil || attempt == 5 || !errors.As(err, &ae) || ae.ErrorCode() != "BucketNotEmpty" {
			return err
		}
		time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
	}
}

// empty deletes every object of the bucket; gone reports that the bucket
// does not exist.
func (a *s3Admin) empty(ctx context.Context, name string) (gone bool, _ error) {
	p := s3.NewListObjectsV2Paginator(a.client, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			var nb *types.NoSuchBucket
			if errors.As(err, &nb) {
				return true, nil
			}
			return false, err
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		if _, err := a.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(name), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		}); err != nil {
			return false, err
		}
	}
	return false, nil
}

func (a *s3Admin) isolated(name string) string {
	u := *a.base
	u.Host = name
	return u.String()
}

func (a *s3Admin) close() error { return nil }
