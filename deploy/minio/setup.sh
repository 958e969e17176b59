#!/bin/sh
# One-shot job (docker-compose service `minio-setup`, image minio/mc), run on every `up`, idempotent:
#   - creates the platform's bucket (HAP_S3_BUCKET);
#   - creates the platform's own MinIO user (HAP_S3_ACCESS_KEY / HAP_S3_SECRET_KEY) with a policy that allows
#     object reads and writes in that bucket only; the root credentials stay with this job.
set -eu

: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${HAP_S3_ACCESS_KEY:?}" "${HAP_S3_SECRET_KEY:?}"
bucket=${HAP_S3_BUCKET:-hap-archive}
policy=hap-archive-rw

for value in "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" "$HAP_S3_ACCESS_KEY" "$HAP_S3_SECRET_KEY"; do
  case $value in
    *[!A-Za-z0-9]*) echo "minio-setup: MinIO users and keys must be letters and digits only" >&2; exit 1 ;;
  esac
done

# An alias given by environment, so that no secret appears on a command line.
export MC_HOST_hap="http://${MINIO_ROOT_USER}:${MINIO_ROOT_PASSWORD}@minio:9000"

mc ready hap
mc mb --ignore-existing "hap/${bucket}"

cat > /tmp/policy.json <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      "Resource": ["arn:aws:s3:::${bucket}"]
    },
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                 "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      "Resource": ["arn:aws:s3:::${bucket}/*"]
    }
  ]
}
JSON
mc admin policy create hap "$policy" /tmp/policy.json
mc admin user add hap "$HAP_S3_ACCESS_KEY" "$HAP_S3_SECRET_KEY"
if ! mc admin user info hap "$HAP_S3_ACCESS_KEY" --json | grep -q "$policy"; then
  mc admin policy attach hap "$policy" --user "$HAP_S3_ACCESS_KEY"
fi
echo "minio-setup: bucket ${bucket} and user ${HAP_S3_ACCESS_KEY} (policy ${policy}) are ready"
