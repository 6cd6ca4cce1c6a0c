// Package s3 is the storage engine on Amazon S3 and S3-compatible object
// stores (MinIO, SeaweedFS).
package s3
