"""Type tokens of the resources this stack creates (pulumi-gcp 10.x, pulumi-docker 5.x, pulumi-random 4.x)."""

BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
BUCKET_IAM_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
BUCKET_IAM_POLICY = "gcp:storage/bucketIAMPolicy:BucketIAMPolicy"
BUCKET_ACL = "gcp:storage/bucketACL:BucketACL"
BUCKET_ACCESS_CONTROL = "gcp:storage/bucketAccessControl:BucketAccessControl"
DATASET = "gcp:bigquery/dataset:Dataset"
DATASET_ACCESS = "gcp:bigquery/datasetAccess:DatasetAccess"
DATASET_IAM_MEMBER = "gcp:bigquery/datasetIamMember:DatasetIamMember"
DATASET_IAM_BINDING = "gcp:bigquery/datasetIamBinding:DatasetIamBinding"
DATASET_IAM_POLICY = "gcp:bigquery/datasetIamPolicy:DatasetIamPolicy"
SERVICE_ACCOUNT_KEY = "gcp:serviceaccount/key:Key"
SERVICE_ACCOUNT_IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
SERVICE_ACCOUNT_IAM_BINDING = "gcp:serviceaccount/iAMBinding:IAMBinding"
PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROJECT_IAM_BINDING = "gcp:projects/iAMBinding:IAMBinding"
PROJECT_IAM_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
SECRET = "gcp:secretmanager/secret:Secret"
SECRET_IAM_MEMBER = "gcp:secretmanager/secretIamMember:SecretIamMember"
SECRET_IAM_BINDING = "gcp:secretmanager/secretIamBinding:SecretIamBinding"
INSTANCE = "gcp:compute/instance:Instance"
INSTANCE_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
DISK = "gcp:compute/disk:Disk"
FIREWALL = "gcp:compute/firewall:Firewall"

REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
CONTAINER = "docker:index/container:Container"
DOCKER_VOLUME = "docker:index/volume:Volume"
DOCKER_NETWORK = "docker:index/network:Network"

# Resources carrying IAM members (a `member`, a `members` list, or a policy document).
IAM_GRANTS = frozenset({
    BUCKET_IAM_MEMBER, BUCKET_IAM_BINDING, BUCKET_IAM_POLICY, BUCKET_ACL, BUCKET_ACCESS_CONTROL,
    DATASET, DATASET_ACCESS, DATASET_IAM_MEMBER, DATASET_IAM_BINDING, DATASET_IAM_POLICY,
    SERVICE_ACCOUNT_IAM_MEMBER, SERVICE_ACCOUNT_IAM_BINDING,
    PROJECT_IAM_MEMBER, PROJECT_IAM_BINDING, PROJECT_IAM_POLICY,
    SECRET_IAM_MEMBER, SECRET_IAM_BINDING,
})

# GCP resources whose `labels` is a map; Docker resources whose `labels` is a list of {label, value}.
GCP_LABELLED = frozenset({BUCKET, DATASET, INSTANCE, DISK, SECRET})
DOCKER_LABELLED = frozenset({CONTAINER, DOCKER_VOLUME, DOCKER_NETWORK})
