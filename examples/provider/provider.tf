terraform {
  required_providers {
    queuescale = {
      source = "queuescale/queuescale"
    }
  }
}

# Region and credentials come from the standard AWS chain (environment variables,
# shared config and credentials files, SSO, web identity, container and instance
# roles) unless set here. Every argument is optional.
provider "queuescale" {
  region = "us-east-1"

  # Tags merged into every alarm and scalable target this provider creates.
  default_tags {
    tags = {
      managed-by = "terraform"
    }
  }
}
