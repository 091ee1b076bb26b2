#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){size_t n=(size_t)256<<20;int huge=atoi(argv[1]);
void*p=NULL;posix_memalign(&p,2<<20,n);if(huge)madvise(p,n,MADV_HUGEPAGE);else madvise(p,n,MADV_NOHUGEPAGE);
double t=now();for(size_t i=0;i<n;i+=4096)((char*)p)[i]=1;double a=now()-t;
t=now();memset(p,2,n);double b=now()-t;printf("huge %d first touch %.3f s (%.0f MB/s), second pass %.3f s\n",huge,a,256/a,b);return 0;}
