// Package awss3 reads files from an S3 prefix (mhlw.Source for the
// mhlw-import job): ListObjectsV2 and GetObject through the AWS SDK, with
// the credentials of the environment (in ECS, the task role).
package awss3

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"carematch/mhlw"
)

// Prefix is the objects of one bucket under one key prefix.
type Prefix struct {
	Bucket string
	Prefix string // "" or ending in "/"
	client *s3.Client
}

// Parse splits s3://bucket/prefix.
func Parse(location string) (bucket, prefix string, err error) {
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return "", "", fmt.Errorf("awss3: %q is not s3://bucket/prefix", location)
	}
	prefix = strings.TrimPrefix(u.Path, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return u.Host, prefix, nil
}

// Open connects to the S3 location s3://bucket/prefix with the default
// credential chain and region (AWS_REGION, set by ECS). opts adjust the
// client (tests point it at a local endpoint).
func Open(ctx context.Context, location string, opts ...func(*s3.Options)) (*Prefix, error) {
	bucket, prefix, err := Parse(location)
	if err != nil {
		return nil, err
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("awss3: %w", err)
	}
	return &Prefix{Bucket: bucket, Prefix: prefix, client: s3.NewFromConfig(cfg, opts...)}, nil
}

func (p *Prefix) String() string { return "s3://" + p.Bucket + "/" + strings.TrimSuffix(p.Prefix, "/") }

// List lists every object under the prefix; keys are relative to it.
func (p *Prefix) List(ctx context.Context) ([]mhlw.Object, error) {
	var out []mhlw.Object
	pages := s3.NewListObjectsV2Paginator(p.client, &s3.ListObjectsV2Input{Bucket: aws.String(p.Bucket), Prefix: aws.String(p.Prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("awss3: list %s: %w", p, err)
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), p.Prefix)
			if key == "" || strings.HasSuffix(key, "/") {
				continue // the "folder" object itself
			}
			out = append(out, mhlw.Object{Key: key, Size: aws.ToInt64(o.Size), Modified: aws.ToTime(o.LastModified)})
		}
	}
	return out, nil
}

// Open reads one object by its key relative to the prefix.
func (p *Prefix) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	o, err := p.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Prefix + key)})
	if err != nil {
		return nil, fmt.Errorf("awss3: get %s%s: %w", p.Prefix, key, err)
	}
	return o.Body, nil
}
