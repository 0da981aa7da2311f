"""Documents the office publishes: 公文-format docx (GB/T 9704-2012), PDF through LibreOffice, the
public ranking page. Bytes out; the content comes from yuqing.bulletin and the score rows."""
