# Alternating processes of two package copies under /tmp/ab (section 33's batch A/Bs):
#   bash batch_qps_ab.sh N DATASET INDEX.vidx EF THREADS VARIANT_A VARIANT_B
# prints each pair's median batch QPS and B's over A's.
HERE=$(dirname "$0")
N=$1; shift; ds=$1; path=$2; ef=$3; th=$4; A=$5; B=$6
for i in $(seq $N); do
  a=$(python3 $HERE/batch_qps.py /tmp/ab/$A $ds $path $ef $th); b=$(python3 $HERE/batch_qps.py /tmp/ab/$B $ds $path $ef $th)
  echo "$a $b" | awk '{printf "%s %.0f %s %.0f ratio %.3f\n", "'$A'", $1, "'$B'", $2, $2/$1}'
done
