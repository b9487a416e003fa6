# Sourced by the function demo scripts: the AWS SDK (in the scripts' helpers and in the function
# itself) talks to the moto server at MOTO_URL, with moto's test credentials unless set.
: "${MOTO_URL:?set MOTO_URL}"
export AWS_ENDPOINT_URL="$MOTO_URL" AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
