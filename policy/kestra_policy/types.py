"""Type tokens of the resources this stack creates (pulumi-gcp 10.x, pulumi-docker 5.x, pulumi-random 4.x,
pulumi-kubernetes 4.x)."""

BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
BUCKET_IAM_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
BUCKET_ACL = "gcp:storage/bucketACL:BucketACL"
DATASET = "gcp:bigquery/dataset:Dataset"
DATASET_ACCESS = "gcp:bigquery/datasetAccess:DatasetAccess"
SERVICE_ACCOUNT_KEY = "gcp:serviceaccount/key:Key"
PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROJECT_IAM_BINDING = "gcp:projects/iAMBinding:IAMBinding"
PROJECT_IAM_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
SECRET = "gcp:secretmanager/secret:Secret"
SECRET_IAM_MEMBER = "gcp:secretmanager/secretIamMember:SecretIamMember"
INSTANCE = "gcp:compute/instance:Instance"
INSTANCE_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
DISK = "gcp:compute/disk:Disk"
FIREWALL = "gcp:compute/firewall:Firewall"

REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
CONTAINER = "docker:index/container:Container"
DOCKER_VOLUME = "docker:index/volume:Volume"
DOCKER_NETWORK = "docker:index/network:Network"

# GCP resources whose `labels` is a map; Docker resources whose `labels` is a list of {label, value}.
GCP_LABELLED = frozenset({BUCKET, DATASET, INSTANCE, DISK, SECRET})
DOCKER_LABELLED = frozenset({CONTAINER, DOCKER_VOLUME, DOCKER_NETWORK})

# The gke target (pulumi-gcp 10.x, pulumi-kubernetes 4.x).
GKE_CLUSTER = "gcp:container/cluster:Cluster"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"
SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
K8S_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
K8S_STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
K8S_POD_OWNERS = frozenset({K8S_DEPLOYMENT, K8S_STATEFUL_SET})
