/** Where people look at this deployment besides the dashboard (null: not configured). A leaf module. */
export interface MonitoringLinks {
  prometheus: string | null;
  grafana: string | null;
  mlflow: string | null;
}
