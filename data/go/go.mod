module razorlab/measure

go 1.19
