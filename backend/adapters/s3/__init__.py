"""Media blobs in an S3 bucket via boto3 (the scale-out adapter)."""
