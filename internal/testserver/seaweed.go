package testserver

// seaweedCmd runs SeaweedFS as one process (`weed mini`: master, volume server, filer and S3 gateway)
// with its S3 gateway on port 8333. The official image's entry point takes the same arguments (it adds
// -dir=/data unless given); the substitute's entry point is weed itself.
//
//   - -ip=127.0.0.1: the components find each other on the container's loopback; -ip.bind=0.0.0.0
//     lets the published port reach the S3 gateway.
//   - -webdav, -admin.ui, the Iceberg and Lance ports: off; this server only speaks S3.
//   - -master.telemetry=false: the server never dials out.
//   - -master.volumeSizeLimitMB=64 and -volume.max=1000: every bucket is a collection with volumes of
//     its own (one, grown on its first write; removed with the bucket). Mini otherwise sizes volumes
//     after the disk, and the volume count after its free space, which on a big disk allows fewer
//     buckets than a test binary creates at once. Volumes are sparse files: nothing is preallocated.
//
// The credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment: without an
// S3 configuration the gateway makes an admin identity of them and checks every request's signature.
var seaweedCmd = []string{
	"mini", "-dir=/data",
	"-ip=127.0.0.1", "-ip.bind=0.0.0.0", "-s3.port=8333",
	"-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
	"-master.telemetry=false",
	"-master.volumeSizeLimitMB=64", "-volume.max=1000",
}
