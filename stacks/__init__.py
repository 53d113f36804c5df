"""The four layer stacks, each with its own Terraform state."""
