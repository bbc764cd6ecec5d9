"""rollcall_tools: deploy the AWS stack, seed DynamoDB, build the image, run the local demo."""

__version__ = "0.2.0"
