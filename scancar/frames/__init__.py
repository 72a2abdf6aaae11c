"""Frame sources: image files and folders, video files, camera devices and RTSP streams."""
